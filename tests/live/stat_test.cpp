// kvmscope stat against real KVM on this host, with the built-in guest as the workload.
// On a host whose KVM emulates guests (kvm_pvm) only exits to the VMM fire; the counts of those
// are asserted exactly. Hardware exits are asserted in the nested SVM bed (tests/nested).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bpf/kvmscope_bpf.h"
#include "live_support.h"
#include "support/mini_json.h"

namespace {

using kvmscope::live::Background;
using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::slurp;
using kvmscope::live::temp_path;
using kvmscope::testing::Json;

constexpr std::uint64_t kExitIo = KS_KVM_EXIT_IO, kExitHlt = KS_KVM_EXIT_HLT,
                        kExitMmio = KS_KVM_EXIT_MMIO;

// Sum of `count` over the JSON exits matching level and code (and vcpu, when given).
std::uint64_t count_of(const Json& doc, const std::string& level, std::uint64_t code,
                       std::optional<std::uint64_t> vcpu = std::nullopt) {
  std::uint64_t n = 0;
  for (const auto& e : doc["exits"].items) {
    if (e["level"].str() != level || e["code"].u64() != code) continue;
    if (vcpu && (e["vcpu"].is_null() || e["vcpu"].u64() != *vcpu)) continue;
    n += e["count"].u64();
  }
  return n;
}

TEST(LiveStat, counts_exact_exits_to_the_vmm_of_the_built_in_guest) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("exact.json");
  auto r = run_command({kvmscope_bin(), "stat", "--json", "-o", out, "--", kvmscope_bin(), "guest",
                        "--io", "5000", "--hlt", "300", "--cpuid", "700", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  ASSERT_EQ(doc["vms"].items.size(), 1u);
  EXPECT_EQ(count_of(doc, "vmm", kExitIo), 5000u);
  EXPECT_EQ(count_of(doc, "vmm", kExitHlt), 300u);
  // The guest ends at its last planned exit: nothing else reached the VMM.
  EXPECT_EQ(doc["totals"]["vmm"].u64(), 5300u);
  EXPECT_EQ(doc["health"]["exits_not_stored"].u64(), 0u);
}

TEST(LiveStat, measures_vmm_handling_time_and_knows_the_vcpu) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("timing.json");
  auto r = run_command({kvmscope_bin(), "stat", "--json", "-o", out, "--", kvmscope_bin(), "guest",
                        "--mmio", "400", "--io", "100", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  for (const auto& e : doc["exits"].items) {
    if (e["code"].u64() != kExitMmio) continue;
    EXPECT_EQ(e["vcpu"].u64(), 0u)
        << "the ioctl(KVM_RUN) syscall tracepoint tells the vCPU of a thread";
    EXPECT_EQ(e["count"].u64(), 400u);
    // Each MMIO exit is followed by the VMM re-entering KVM_RUN (the guest ends at its last OUT).
    EXPECT_EQ(e["timed"].u64(), 400u);
    EXPECT_GT(e["time_ns"].u64(), 0u);
    EXPECT_GE(e["max_ns"].u64(), e["avg_ns"].u64());
  }
  EXPECT_EQ(count_of(doc, "vmm", kExitMmio), 400u);
  EXPECT_EQ(count_of(doc, "vmm", kExitIo), 100u);
}

TEST(LiveStat, splits_exits_per_vcpu) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("vcpu.json");
  auto r =
      run_command({kvmscope_bin(), "stat", "--json", "--per-vcpu", "-o", out, "--", kvmscope_bin(),
                   "guest", "--vcpus", "2", "--io", "300", "--hlt", "40", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  for (std::uint64_t vcpu : {0u, 1u}) {
    EXPECT_EQ(count_of(doc, "vmm", kExitIo, vcpu), 300u) << "vcpu " << vcpu;
    EXPECT_EQ(count_of(doc, "vmm", kExitHlt, vcpu), 40u) << "vcpu " << vcpu;
  }
}

TEST(LiveStat, table_says_plainly_when_no_hardware_exit_was_seen) {
  KS_REQUIRE_LIVE();
  const std::string json = temp_path("hw.json");
  auto j = run_command({kvmscope_bin(), "stat", "--json", "-o", json, "--", kvmscope_bin(), "guest",
                        "--io", "50", "--quiet"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const bool hardware_seen = Json::parse(slurp(json))["totals"]["hardware"].u64() > 0;
  std::remove(json.c_str());

  // With a command, the table goes to standard error.
  auto t =
      run_command({kvmscope_bin(), "stat", "--", kvmscope_bin(), "guest", "--io", "50", "--quiet"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.err.find("KVM_EXIT_IO"), std::string::npos) << t.err;
  if (hardware_seen) {
    EXPECT_EQ(t.err.find("No hardware exits"), std::string::npos) << t.err;
  } else {
    EXPECT_NE(t.err.find("No hardware exits"), std::string::npos) << t.err;
  }
}

TEST(LiveStat, by_function_counts_hardware_exits_per_guest_rip_or_says_none_fired) {
  // Where kvm_exit fires, every hardware exit is at a RIP of the built-in guest (low: firmware /
  // early boot, no kernel); where it never fires (kvm_pvm) the part says so instead of a zero.
  // The nested beds check the counts per (reason, RIP) against the kernel's own hist.
  KS_REQUIRE_LIVE();
  const std::string json = temp_path("fn.json");
  auto j = run_command({kvmscope_bin(), "stat", "--json", "-v", "--by", "function,port", "-o", json,
                        "--", kvmscope_bin(), "guest", "--io", "50", "--quiet"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  // --by function takes the classic kvm_exit, which carries the RIP.
  EXPECT_NE(j.err.find("hardware exits: kvm:kvm_exit and kvm:kvm_entry (classic tracepoints: "
                       "--by function needs the guest RIP"),
            std::string::npos)
      << j.err;
  const Json doc = Json::parse(slurp(json));
  std::remove(json.c_str());
  const std::uint64_t hardware = doc["totals"]["hardware"].u64();
  const Json& code = doc["guest_code"];
  EXPECT_EQ(code["symbols"].str(), "none");
  EXPECT_EQ(code["sites_not_stored"].u64(), 0u);
  std::uint64_t attributed = 0;
  for (const Json& vm : code["vms"].items)
    attributed += vm["exits"]["early"].u64() + vm["exits"]["kernel"].u64() +
                  vm["exits"]["user"].u64() + vm["exits"]["other"].u64();
  EXPECT_EQ(attributed, hardware);
  EXPECT_FALSE(doc["drilldowns"].is_null());  // port, beside function

  auto t = run_command({kvmscope_bin(), "stat", "--by", "function", "--", kvmscope_bin(), "guest",
                        "--io", "50", "--quiet"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.err.find("Guest code: which guest functions exited (symbols: none)"),
            std::string::npos)
      << t.err;
  if (hardware == 0) {
    EXPECT_NE(t.err.find("No hardware exits with a guest RIP were seen (kvm:kvm_exit did not "
                         "fire)."),
              std::string::npos)
        << t.err;
  }
}

TEST(LiveStat, every_n_prints_exact_cumulative_blocks) {
  KS_REQUIRE_LIVE();
  auto r = run_command({kvmscope_bin(), "stat", "--every", "1000", "--every-level", "vmm", "--",
                        kvmscope_bin(), "guest", "--io", "2500", "--hlt", "500", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The guest does its OUTs before its HLTs, so the three blocks are fully determined.
  const std::string blocks[] = {
      "kvm userspace exit 2 (KVM_EXIT_IO): 1000\n",
      "kvm userspace exit 2 (KVM_EXIT_IO): 2000\n",
      "kvm userspace exit 2 (KVM_EXIT_IO): 2500\nkvm userspace exit 5 (KVM_EXIT_HLT): 500\n",
  };
  std::size_t pos = 0;
  for (const auto& block : blocks) {
    pos = r.err.find(block, pos);
    ASSERT_NE(pos, std::string::npos) << "missing block:\n" << block << "in:\n" << r.err;
    pos += block.size();
  }
  EXPECT_EQ(r.err.find("KVM_EXIT_IO): 3000"), std::string::npos);
  EXPECT_EQ(r.out, "");  // the blocks go where the table goes
}

TEST(LiveStat, attaches_to_a_running_vm_by_pid) {
  KS_REQUIRE_LIVE();
  const std::string guest_out = temp_path("attach-guest.txt");
  // A guest that keeps exiting for long enough to attach to it mid-run.
  Background guest({kvmscope_bin(), "guest", "--io", "1000000000"}, guest_out);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string out = temp_path("attach.json");
  auto r = run_command({kvmscope_bin(), "stat", "--json", "-o", out, "-p",
                        std::to_string(guest.pid()), "--duration", "1"});
  guest.signal(SIGTERM);
  guest.wait();
  std::remove(guest_out.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  ASSERT_EQ(doc["vms"].items.size(), 1u);
  EXPECT_EQ(doc["vms"].items[0]["pid"].u64(), static_cast<std::uint64_t>(guest.pid()));
  EXPECT_GT(count_of(doc, "vmm", kExitIo), 100u);
  EXPECT_EQ(doc["totals"]["vmm"].u64(), count_of(doc, "vmm", kExitIo));
}

TEST(LiveStat, names_a_vm_that_ended_before_the_readout_by_its_process_name) {
  KS_REQUIRE_LIVE();
  // -a reads the counters once, at the end: the guest has long ended by then. Before, its name
  // was looked up in /proc only then: "VM 19513 (pid 19513 (exited))".
  const std::string out = temp_path("ended.txt");
  Background stat({kvmscope_bin(), "stat", "-a", "--per-vm", "--duration", "4"}, out);
  ASSERT_TRUE(kvmscope::live::wait_for_bpf_links(stat.pid(), 5)) << slurp(out);
  Background guest({kvmscope_bin(), "guest", "--io", "300", "--quiet"}, temp_path("ended.guest"));
  ASSERT_EQ(guest.wait(), 0);
  std::remove(temp_path("ended.guest").c_str());
  ASSERT_EQ(stat.wait(), 0);
  const std::string text = slurp(out);
  std::remove(out.c_str());
  const std::string vm = "VM " + std::to_string(guest.pid());
  EXPECT_NE(text.find("\n" + vm + " (kvmscope)\n"), std::string::npos) << text;
  EXPECT_EQ(text.find(vm + " (pid "), std::string::npos) << text;
}

TEST(LiveStat, ctrl_c_prints_the_table_gathered_so_far) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("ctrlc.txt");
  Background stat(
      {kvmscope_bin(), "stat", "--", kvmscope_bin(), "guest", "--io", "1000000000", "--quiet"}, out,
      /*with_stderr=*/true);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stat.signal(SIGINT);
  const int status = stat.wait();
  const std::string text = slurp(out);
  std::remove(out.c_str());
  // The guest was interrupted too (its status is passed on), and the table was still printed.
  EXPECT_NE(status, 0);
  EXPECT_NE(text.find("KVM_EXIT_IO"), std::string::npos) << text;
}

TEST(LiveStat, counts_what_a_full_map_could_not_store_and_says_so) {
  KS_REQUIRE_LIVE();
  // Room for one counter: the OUTs come first and take it; the HLTs find the map full.
  const std::string out = temp_path("full.json");
  auto r = run_command({kvmscope_bin(), "stat", "--json", "--max-entries", "1", "-o", out, "--",
                        kvmscope_bin(), "guest", "--io", "100", "--hlt", "30", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(count_of(doc, "vmm", kExitIo), 100u);
  EXPECT_EQ(count_of(doc, "vmm", kExitHlt), 0u);
  EXPECT_EQ(doc["health"]["exits_not_stored"].u64(), 30u);
  bool warned = false;
  for (const auto& note : doc["notes"].items)
    warned = warned || note.str().starts_with("warning: 30 exits could not be stored");
  EXPECT_TRUE(warned);
}

TEST(LiveStat, drills_down_by_port_mmio_msr_and_cpuid_exactly) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("by.json");
  auto r = run_command(
      {kvmscope_bin(), "stat",         "--json", "--by",    "all",  "-o",         out,
       "--",           kvmscope_bin(), "guest",  "--cpuid", "70",   "--msr-read", "40",
       "--msr-write",  "30",           "--mmio", "20",      "--io", "1000",       "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  std::map<std::string, std::uint64_t> counts, timed;
  for (const auto& table : doc["drilldowns"].items)
    for (const auto& row : table["rows"].items) {
      const std::string key =
          table["kind"].str() + " " + row["value_text"].str() + " " + row["detail"].str();
      counts[key] += row["count"].u64();
      timed[key] += row["timed"].u64();
    }
  EXPECT_EQ(counts["cpuid 0x0 "], 70u);
  EXPECT_EQ(counts["msr 0x1a0 read"], 40u);
  EXPECT_EQ(counts["msr 0x1a0 write"], 30u);
  EXPECT_EQ(counts["mmio 0xa0000 write"], 20u);
  EXPECT_EQ(counts["port 0x10 out, 1 byte"], 1000u);
  EXPECT_EQ(counts.size(), 5u);
  // Each OUT and MMIO write is timed by the exit to the VMM it caused, but the guest's last
  // OUT: the guest ends there and KVM_RUN is not called again.
  EXPECT_EQ(timed["mmio 0xa0000 write"], 20u);
  EXPECT_EQ(timed["port 0x10 out, 1 byte"], 999u);
}

TEST(LiveStat, exits_with_the_status_of_the_command) {
  KS_REQUIRE_LIVE();
  auto r = run_command({kvmscope_bin(), "stat", "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("No KVM exits"), std::string::npos) << r.err;
}

// -p of a process without a KVM VM would wait forever for exits: refused in one line, unless
// --wait-vm, which says that it waits.
TEST(LiveStat, refuses_a_pid_without_a_kvm_vm_unless_told_to_wait) {
  KS_REQUIRE_LIVE();
  const std::string sleep_out = temp_path("novm-sleep.txt");
  Background sleeper({"/bin/sleep", "30"}, sleep_out);
  const std::string pid = std::to_string(sleeper.pid());
  for (int i = 0; i < 200 && slurp("/proc/" + pid + "/comm") != "sleep\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // until it has exec'd
  auto r = run_command({kvmscope_bin(), "stat", "-p", pid}, 10);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope stat: process " + pid +
                       " (sleep) has no KVM VM open (give the VMM's pid, or --wait-vm to wait "
                       "for it to create one)\n");
  auto w = run_command({kvmscope_bin(), "stat", "-p", pid, "--wait-vm", "--duration", "300ms"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_TRUE(w.err.starts_with("kvmscope stat: note: process " + pid +
                                " (sleep) has no KVM VM open yet; waiting"))
      << w.err;
  EXPECT_NE(w.out.find("No KVM exits"), std::string::npos) << w.out;
  auto rec = run_command({kvmscope_bin(), "record", "-o", temp_path("novm.kvms"), "-p", pid}, 10);
  EXPECT_EQ(rec.exit_code, 1);
  EXPECT_EQ(rec.err, "kvmscope record: process " + pid +
                         " (sleep) has no KVM VM open (give the VMM's pid, or --wait-vm to wait "
                         "for it to create one)\n");
  std::remove(temp_path("novm.kvms").c_str());
  sleeper.stop(SIGKILL);
  std::remove(sleep_out.c_str());
}

// A command killed by a signal is said so by name; kvmscope exits as a shell would (128 + N).
TEST(LiveStat, says_a_command_was_killed_by_a_signal_and_exits_128_plus_n) {
  KS_REQUIRE_LIVE();
  auto r =
      run_command({kvmscope_bin(), "stat", "-o", "/dev/null", "--", "/bin/sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  EXPECT_NE(r.err.find("kvmscope stat: the command (pid "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(") was killed by SIGKILL\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("status 137"), std::string::npos) << r.err;
}

// SIGINT to kvmscope is passed on; a command that ignores it is waited for, and its own exit
// status is kvmscope's.
TEST(LiveStat, waits_for_a_command_that_ignores_sigint_and_exits_with_its_status) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("ignores-int.txt");
  const std::string ready = temp_path("ignores-int.ready");
  Background stat({kvmscope_bin(), "stat", "-o", "/dev/null", "--", "/bin/sh", "-c",
                   "trap '' INT; touch " + ready + "; sleep 1; echo still here; exit 5"},
                  out, /*with_stderr=*/true);
  for (int i = 0; i < 200 && ::access(ready.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stat.signal(SIGINT);
  const int status = stat.wait();
  const std::string text = slurp(out);
  std::remove(out.c_str());
  std::remove(ready.c_str());
  EXPECT_EQ(status, 5) << text;
  EXPECT_NE(text.find("still here\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("killed"), std::string::npos) << text;
}

// Like perf stat: the traced command keeps standard output; kvmscope's results go to standard
// error, or to -o FILE. Either way the JSON is one clean document.
TEST(LiveStat, results_of_a_command_go_to_stderr_or_the_file_never_into_its_stdout) {
  KS_REQUIRE_LIVE();
  const std::vector<std::string> command = {"/bin/sh", "-c",
                                            "echo first line; echo second line; echo to-err >&2"};
  std::vector<std::string> argv = {kvmscope_bin(), "stat", "--json", "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  auto r = run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "first line\nsecond line\n");
  // stderr: the command's own line (it ran before the results), then exactly one document.
  ASSERT_TRUE(r.err.starts_with("to-err\n")) << r.err;
  Json doc = Json::parse(r.err.substr(std::string("to-err\n").size()));
  EXPECT_EQ(doc["schema"].str(), "kvmscope.stat/1");
  EXPECT_EQ(doc["totals"]["vmm"].u64(), 0u);

  const std::string file = temp_path("stdout-clean.json");
  argv = {kvmscope_bin(), "stat", "--json", "-o", file, "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  auto f = run_command(argv);
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out, "first line\nsecond line\n");
  EXPECT_EQ(f.err, "to-err\n");
  EXPECT_EQ(Json::parse(slurp(file))["schema"].str(), "kvmscope.stat/1");
  std::remove(file.c_str());

  // The text table, too.
  argv = {kvmscope_bin(), "stat", "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  auto t = run_command(argv);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out, "first line\nsecond line\n");
  EXPECT_NE(t.err.find("kvmscope stat: command: /bin/sh -c"), std::string::npos) << t.err;
}

// Without a command (-p, -a) nothing else writes to standard output: the results stay there.
TEST(LiveStat, results_without_a_command_stay_on_stdout) {
  KS_REQUIRE_LIVE();
  auto r = run_command({kvmscope_bin(), "stat", "--json", "-a", "--duration", "200ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["schema"].str(), "kvmscope.stat/1");
}

TEST(LiveStat, names_the_missing_capability_when_tracefs_is_closed_to_it) {
  KS_REQUIRE_LIVE();
  // As nobody with CAP_BPF and CAP_PERFMON but not CAP_DAC_READ_SEARCH: tracefs (root's, mode
  // 0700) is mounted but closed. Before, that read "tracefs is not mounted and mounting it at
  // /sys/kernel/tracing failed: Operation not permitted".
  struct stat st;
  if (::stat("/sys/kernel/tracing", &st) != 0 || (st.st_mode & 0005) != 0)
    GTEST_SKIP() << "tracefs at /sys/kernel/tracing is not the root-only mount this is about";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) missing";
  auto r = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon", "--",
                        kvmscope_bin(), "stat", "-a", "--duration", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope stat: tracefs at /sys/kernel/tracing is not readable: Permission denied "
            "(it is mounted, but only root may read it and this process lacks "
            "CAP_DAC_READ_SEARCH: run as root, or grant CAP_DAC_READ_SEARCH besides CAP_BPF and "
            "CAP_PERFMON)\n");
}

TEST(LiveStat, reports_unknown_pid_and_missing_command_in_one_line) {
  KS_REQUIRE_LIVE();
  auto pid = run_command({kvmscope_bin(), "stat", "-p", "3999999"});
  EXPECT_EQ(pid.exit_code, 1);
  EXPECT_EQ(pid.err, "kvmscope stat: no process with PID 3999999\n");
  auto cmd = run_command({kvmscope_bin(), "stat", "--", "/nonexistent/vmm"});
  EXPECT_EQ(cmd.exit_code, 127);
  EXPECT_EQ(cmd.err,
            "kvmscope stat: cannot run '/nonexistent/vmm': No such file or directory (not "
            "found in PATH)\n");
}

}  // namespace

TEST(LiveStat, counts_only_counts_exactly_and_times_nothing) {
  KS_REQUIRE_LIVE();
  const std::string out = temp_path("counts-only.json");
  auto r = run_command({kvmscope_bin(), "stat", "--counts-only", "--json", "-o", out, "--",
                        kvmscope_bin(), "guest", "--io", "1000", "--hlt", "30", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(count_of(doc, "vmm", kExitIo), 1000u);
  EXPECT_EQ(count_of(doc, "vmm", kExitHlt), 30u);
  for (const auto& e : doc["exits"].items) {
    EXPECT_EQ(e["timed"].u64(), 0u) << e["reason"].str();
    EXPECT_EQ(e["time_ns"].u64(), 0u) << e["reason"].str();
  }
}

TEST(LiveStat, verbose_names_the_hooks_and_the_environment_chooses_them) {
  KS_REQUIRE_LIVE();
  auto r = run_command({"env", "KVMSCOPE_TRACEPOINTS=classic", kvmscope_bin(), "stat", "--verbose",
                        "-a", "-d", "0.2", "-o", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "kvmscope stat: hardware exits: kvm:kvm_exit and kvm:kvm_entry (classic tracepoints: "
            "KVMSCOPE_TRACEPOINTS=classic); exits to the VMM: kvm:kvm_userspace_exit (classic "
            "tracepoint: KVMSCOPE_TRACEPOINTS=classic)\n");
  r = run_command({"env", "KVMSCOPE_TRACEPOINTS=classic", kvmscope_bin(), "stat", "-v",
                   "--counts-only", "-a", "-d", "0.2", "-o", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "kvmscope stat: hardware exits: kvm:kvm_exit (classic tracepoints: "
            "KVMSCOPE_TRACEPOINTS=classic); counts only, no handling times; exits to the VMM: "
            "kvm:kvm_userspace_exit (classic tracepoint: KVMSCOPE_TRACEPOINTS=classic)\n");
  // Without the variable: BTF raw tracepoints where kvm_amd or kvm_intel has BTF, else classic;
  // exits to the VMM on the BTF raw tracepoint wherever the kernel's BTF has it as kvmscope
  // reads it, else the classic one and why.
  r = run_command({kvmscope_bin(), "stat", "-v", "-a", "-d", "0.2", "-o", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.starts_with("kvmscope stat: hardware exits: tp_btf/kvm_exit and "
                                "tp_btf/kvm_entry (BTF raw tracepoints") ||
              r.err.starts_with("kvmscope stat: hardware exits: kvm:kvm_exit and kvm:kvm_entry "
                                "(classic tracepoints: "))
      << r.err;
  EXPECT_TRUE(r.err.ends_with("; exits to the VMM: tp_btf/kvm_userspace_exit\n") ||
              r.err.find("; exits to the VMM: kvm:kvm_userspace_exit (classic tracepoint: ") !=
                  std::string::npos)
      << r.err;
  r = run_command({"env", "KVMSCOPE_TRACEPOINTS=fast", kvmscope_bin(), "stat", "-a", "-d", "0.2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope stat: KVMSCOPE_TRACEPOINTS: expected auto, btf or classic, got 'fast'\n");
}
