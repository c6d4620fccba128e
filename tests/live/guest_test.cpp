// kvmscope guest, live: the real binary on this host's /dev/kvm, its exits counted by the
// kernel's own kvm tracepoints (a private tracefs instance, filtered to the guest's process), so
// "exact" means what the kernel saw, not what the VMM says.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "live_support.h"

namespace kvmscope::live {
namespace {

const std::string kTracefs = "/sys/kernel/tracing";

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  return static_cast<bool>(f);
}

// Lines of the kvm events that one command (and the threads it starts) made, counted by their
// text after the event name, e.g. "kvm_pio: pio_write at 0x10 size 1 count 1".
struct Trace {
  CommandResult result;
  std::map<std::string, long> lines;
  std::set<std::string> comms;  // task names, e.g. "CPU 0/KVM"

  // Lines that start with `prefix` (an event name with or without the start of its text).
  long count(const std::string& prefix) const {
    long n = 0;
    for (const auto& [text, c] : lines)
      if (text.compare(0, prefix.size(), prefix) == 0) n += c;
    return n;
  }
  // Lines that contain `part` anywhere.
  long count_containing(const std::string& part) const {
    long n = 0;
    for (const auto& [text, c] : lines)
      if (text.find(part) != std::string::npos) n += c;
    return n;
  }
};

// A tracefs instance of our own, so that other tracing on the host neither disturbs nor is
// disturbed by the test; removed again when the test ends.
class TraceInstance {
 public:
  explicit TraceInstance(const std::vector<std::string>& events)
      : dir_(kTracefs + "/instances/kvmscope-guest-test-" + std::to_string(::getpid())) {
    ::rmdir(dir_.c_str());  // a leftover from a killed run
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      error_ = "mkdir " + dir_ + " failed";
      return;
    }
    write_file(dir_ + "/buffer_size_kb", "16384");
    // New tasks of a traced task are traced too: the command we fork and its vCPU threads.
    write_file(dir_ + "/options/event-fork", "1");
    write_file(dir_ + "/options/record-tgid", "1");  // lines name their process
    // Filter before enabling: from then on, only this test process and what it starts are
    // recorded, never another process that happens to run a VM at the same time.
    if (!write_file(dir_ + "/set_event_pid", std::to_string(::getpid())))
      error_ = "cannot write set_event_pid";
    for (const auto& e : events)
      if (!write_file(dir_ + "/events/kvm/" + e + "/enable", "1")) error_ = "cannot enable " + e;
  }
  TraceInstance(const TraceInstance&) = delete;
  TraceInstance& operator=(const TraceInstance&) = delete;
  ~TraceInstance() {
    write_file(dir_ + "/tracing_on", "0");
    write_file(dir_ + "/set_event", "");
    write_file(dir_ + "/set_event_pid", "");
    ::rmdir(dir_.c_str());
  }

  const std::string& error() const { return error_; }

  // Runs argv with only its own process counted: a shell narrows set_event_pid to its own pid,
  // notes that pid and execs the command (whose threads event-fork adds). The pid filter alone
  // is not enough here: on this kernel (6.18, kvm_pvm) events of other processes' vCPU threads
  // running at the same time slip through it now and then, so lines are also kept by TGID.
  Trace run(const std::vector<std::string>& argv, int timeout_s = 120) {
    const std::string pid_file = "/tmp/kvmscope-guest-test-" + std::to_string(::getpid()) + ".pid";
    std::vector<std::string> wrapped = {
        "/bin/sh", "-c",
        "echo $$ > '" + pid_file + "' && echo $$ > '" + dir_ + "/set_event_pid' && exec \"$@\"",
        "sh"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    Trace trace;
    trace.result = run_command(wrapped, timeout_s);
    write_file(dir_ + "/tracing_on", "0");
    std::string pid;
    std::ifstream(pid_file) >> pid;
    ::unlink(pid_file.c_str());

    // "CPU 0/KVM-1235    (   1234) [001] ..... 12.345678: kvm_pio: pio_write at 0x10 ..."
    std::ifstream in(dir_ + "/trace");
    static const std::regex line_re(
        R"(^\s*(.*)-(\d+)\s+\(\s*(\d+|-+)\)\s+\[\d+\].*?: (kvm_\w+: .*)$)");
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (!std::regex_match(line, m, line_re) || m[3] != pid) continue;
      trace.comms.insert(m[1]);
      ++trace.lines[m[4]];
    }
    return trace;
  }

 private:
  std::string dir_;
  std::string error_;
};

// Everything the guest can cause except kvm_emulate_insn (one per guest instruction on
// kvm_pvm: it would flood the buffer) and kvm_exit (the hardware level, absent on kvm_pvm).
const std::vector<std::string> kEvents = {
    "kvm_userspace_exit", "kvm_pio", "kvm_cpuid", "kvm_msr", "kvm_mmio", "kvm_hypercall"};

std::vector<std::string> guest(std::vector<std::string> args) {
  args.insert(args.begin(), {kvmscope_bin(), "guest"});
  return args;
}

TEST(GuestLive, makes_exactly_the_planned_exits_when_given_every_kind_but_vmcall) {
  KS_REQUIRE_LIVE();
  TraceInstance tracing(kEvents);
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--cpuid", "700", "--io", "5000", "--hlt", "300", "--msr-read", "300",
                              "--msr-write", "200", "--mmio", "500"}));
  ASSERT_EQ(t.result.exit_code, 0) << t.result.err;
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_IO (2)"), 5000);
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_HLT (5)"), 300);
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_MMIO (6)"), 500);
  EXPECT_EQ(t.count("kvm_userspace_exit:"), 5800);  // nothing else, not even the ending
  EXPECT_EQ(t.count("kvm_pio: pio_write at 0x10 size 1 count 1"), 5000);
  EXPECT_EQ(t.count("kvm_pio:"), 5000);
  EXPECT_EQ(t.count("kvm_cpuid: func 0 "), 700);
  EXPECT_EQ(t.count("kvm_cpuid:"), 700);
  EXPECT_EQ(t.count("kvm_msr: msr_read 1a0 "), 300);
  EXPECT_EQ(t.count("kvm_msr: msr_write 1a0 "), 200);
  EXPECT_EQ(t.count("kvm_msr:"), 500);
  EXPECT_EQ(t.count_containing("#GP"), 0);  // KVM accepted every access to MSR 0x1a0
  // One kvm_mmio line per MMIO write (a read would add an "unsatisfied-read" line).
  EXPECT_EQ(t.count("kvm_mmio: mmio write len 1 gpa 0xa0000 "), 500);
  EXPECT_EQ(t.count("kvm_mmio:"), 500);
  EXPECT_EQ(t.count("kvm_hypercall:"), 0);
  EXPECT_NE(t.result.out.find("ended: at the last planned exit (KVM_EXIT_HLT)"), std::string::npos)
      << t.result.out;
}

TEST(GuestLive, multiplies_every_count_when_run_on_two_vcpus) {
  KS_REQUIRE_LIVE();
  TraceInstance tracing(kEvents);
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--vcpus", "2", "--cpuid", "300", "--msr-write", "40", "--mmio", "50",
                              "--io", "600", "--hlt", "70"}));
  ASSERT_EQ(t.result.exit_code, 0) << t.result.err;
  EXPECT_EQ(t.count("kvm_cpuid:"), 600);
  EXPECT_EQ(t.count("kvm_msr: msr_write 1a0 "), 80);
  EXPECT_EQ(t.count("kvm_msr:"), 80);
  EXPECT_EQ(t.count("kvm_mmio:"), 100);
  EXPECT_EQ(t.count("kvm_pio:"), 1200);
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_HLT (5)"), 140);
  EXPECT_EQ(t.count("kvm_userspace_exit:"), 1440);
  // Named like QEMU's vCPU threads, each one busy.
  EXPECT_TRUE(t.comms.count("CPU 0/KVM")) << "threads seen: " << t.comms.size();
  EXPECT_TRUE(t.comms.count("CPU 1/KVM")) << "threads seen: " << t.comms.size();
}

TEST(GuestLive, ends_with_one_restart_per_vcpu_when_the_plan_stays_in_the_kernel) {
  KS_REQUIRE_LIVE();
  TraceInstance tracing(kEvents);
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--vcpus", "2", "--cpuid", "500", "--msr-read", "7"}));
  ASSERT_EQ(t.result.exit_code, 0) << t.result.err;
  EXPECT_EQ(t.count("kvm_cpuid:"), 1000);
  EXPECT_EQ(t.count("kvm_msr: msr_read 1a0 "), 14);
  // The kick out of KVM_RUN (EINTR) is the only return to userspace, of no counted kind.
  EXPECT_EQ(t.count("kvm_userspace_exit: reason restart (4)"), 2);
  EXPECT_EQ(t.count("kvm_userspace_exit:"), 2);
  EXPECT_NE(t.result.out.find("ended: the guest flagged done"), std::string::npos) << t.result.out;
}

TEST(GuestLive, counts_past_16_bits_when_counts_are_large) {
  KS_REQUIRE_LIVE();
  TraceInstance tracing({"kvm_userspace_exit", "kvm_cpuid"});
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--cpuid", "70000", "--hlt", "65537", "--quiet"}));
  ASSERT_EQ(t.result.exit_code, 0) << t.result.err;
  EXPECT_EQ(t.result.out, "");  // --quiet
  EXPECT_EQ(t.count("kvm_cpuid:"), 70000);
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_HLT (5)"), 65537);
  EXPECT_EQ(t.count("kvm_userspace_exit:"), 65537);
}

TEST(GuestLive, makes_exact_hypercalls_or_stalls_with_exit_3_when_vmcall_is_not_completed) {
  KS_REQUIRE_LIVE();
  TraceInstance tracing(kEvents);
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--vmcall", "5", "--timeout", "2"}), 30);
  if (t.result.exit_code == 0) {
    // Hardware virtualization completes VMCALL: then it must be exact too.
    EXPECT_EQ(t.count("kvm_hypercall:"), 5);
    GTEST_SKIP() << "this host completes VMCALL (hardware virtualization): no stall to test";
  }
  EXPECT_EQ(t.result.exit_code, 3) << t.result.err;
  EXPECT_NE(t.result.err.find("kvmscope guest: stalled: vCPU 0 made no progress for 2 s in step "
                              "vmcall (0 of 5 done)"),
            std::string::npos)
      << t.result.err;
  if (::access("/sys/module/kvm_pvm", F_OK) == 0) {
    EXPECT_NE(t.result.err.find("kvm_pvm"), std::string::npos) << t.result.err;
  }
  EXPECT_EQ(std::count(t.result.err.begin(), t.result.err.end(), '\n'), 1) << t.result.err;
  EXPECT_NE(t.result.out.find("ended: stalled"), std::string::npos) << t.result.out;
}

TEST(GuestLive, stops_cleanly_with_128_plus_signal_when_terminated) {
  KS_REQUIRE_LIVE();
  auto r = run_command(
      {"/bin/sh", "-c", "\"$0\" guest --io 1000000000 & p=$!; sleep 1; kill -TERM $p; wait $p",
       kvmscope_bin()},
      30);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_NE(r.out.find("ended: interrupted by SIGTERM"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("kvmscope guest: interrupted by SIGTERM after"), std::string::npos) << r.err;
}

TEST(GuestLive, exits_2_with_one_line_when_arguments_are_bad) {
  KS_REQUIRE_LIVE();
  auto bad = run_command(guest({"--io", "x"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "kvmscope guest: --io: expected a non-negative integer, got 'x' (see 'kvmscope guest "
            "--help')\n");
  EXPECT_EQ(bad.out, "");
  auto unknown = run_command(guest({"--bogus"}));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err,
            "kvmscope guest: unknown option '--bogus' (see 'kvmscope guest --help')\n");
  auto help = run_command(guest({"--help"}));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: kvmscope guest"), std::string::npos);
}

TEST(GuestLive, explains_when_dev_kvm_is_missing) {
  KS_REQUIRE_LIVE();
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare(1)";
  // A private mount namespace with an empty /dev: no /dev/kvm for this one command.
  auto r = run_command({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                        "mount -t tmpfs none /dev && exec \"$0\" guest --io 1", kvmscope_bin()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope guest: open /dev/kvm: No such file or directory (is the kvm module "
            "loaded?)\n");
}

TEST(GuestLive, explains_when_dev_kvm_is_not_accessible) {
  KS_REQUIRE_LIVE();
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv(1)";
  struct stat st {};
  if (::stat("/dev/kvm", &st) == 0 && (st.st_mode & S_IROTH) && (st.st_mode & S_IWOTH))
    GTEST_SKIP() << "/dev/kvm is open to everyone here";
  auto r = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        kvmscope_bin(), "guest", "--io", "1"});
  if (r.exit_code == 126 || r.exit_code == 127)
    GTEST_SKIP() << "nobody cannot run " << kvmscope_bin();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope guest: open /dev/kvm: Permission denied (run as root or join the kvm "
            "group)\n");
}

// --query-exits on a kernel without the kernel/ patch (this host's kvm_pvm): the workload runs
// and prints as usual, then the guest's probe CPUID gets the unpatched answer, so the query asks
// nothing more and ends with its one HLT; kvmscope says the patch is not loaded and exits 4.
TEST(GuestLive, says_the_patch_is_not_loaded_when_kvm_does_not_answer_the_query) {
  KS_REQUIRE_LIVE();
  if (::access("/sys/module/kvm_pvm", F_OK) != 0)
    GTEST_SKIP() << "expects an unpatched kvm_pvm host (the nested bed checks the patched path)";
  TraceInstance tracing(kEvents);
  ASSERT_EQ(tracing.error(), "");
  auto t = tracing.run(guest({"--cpuid", "20", "--io", "7", "--query-exits"}));
  EXPECT_EQ(t.result.exit_code, 4) << t.result.out << t.result.err;
  EXPECT_EQ(t.result.err,
            "kvmscope guest: this kernel's KVM does not answer the exit-statistics CPUID leaves "
            "(the kernel/ patch is not loaded)\n"
            "kvmscope guest: CPUID 0x4ffffffd with ECX=0xfffffff0 answered eax=0x0 ebx=0x0 "
            "ecx=0x0 edx=0x0; a patched KVM answers eax=0x0 ebx=0x0 ecx=0x0 edx=0xffffffff\n");
  // The workload's own report is still printed, and says how vCPU 0 ended.
  EXPECT_NE(t.result.out.find("cpuid            20     20"), std::string::npos) << t.result.out;
  EXPECT_NE(t.result.out.find("ended: vCPU 0 ran the exit-statistics query"), std::string::npos)
      << t.result.out;
  EXPECT_EQ(t.result.out.find("exit statistics of this VM"), std::string::npos) << t.result.out;
  // The plan's CPUIDs plus the probe, nothing else; the plan's OUTs plus the query's one HLT.
  EXPECT_EQ(t.count("kvm_cpuid:"), 21);
  EXPECT_EQ(t.count("kvm_cpuid: func 4ffffffd idx fffffff0"), 1);
  EXPECT_EQ(t.count("kvm_pio:"), 7);
  EXPECT_EQ(t.count("kvm_userspace_exit: reason KVM_EXIT_HLT (5)"), 1);
  EXPECT_EQ(t.count("kvm_userspace_exit:"), 8);
}

}  // namespace
}  // namespace kvmscope::live
