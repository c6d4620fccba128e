// TraceDatReader on trace.dat files that trace-cmd records here and now, of kvmscope's built-in
// guest on this host's /dev/kvm: the exact exits the guest makes must come out, for the guest's
// process. (kvm_exit/kvm_entry do not fire on this host's kvm_pvm: the nested-bed fixtures in
// tests/fixtures/tracedat cover those.) Skips without root, /dev/kvm or trace-cmd.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "live_support.h"
#include "tracedat/tracedat_reader.h"

namespace kvmscope::live {
namespace {

constexpr std::uint64_t kKvmExitIo = 2, kKvmExitMmio = 6;
constexpr const char* kGuest = " guest --io 300 --mmio 50 --msr-read 20 --cpuid 70 --quiet";

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/kvmscope-tracedat-live-XXXXXX";
    path_ = ::mkdtemp(path) ? path : "";
  }
  ~TempDir() {
    if (!path_.empty()) run_command({"rm", "-rf", path_});
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string skip_reason() {
  if (auto r = live_skip_reason(); !r.empty()) return r;
  // `trace-cmd --version` exits 255; listing the compression algorithms is a cheap call that
  // succeeds.
  if (run_command({"trace-cmd", "list", "-c"}, 10).exit_code != 0)
    return "trace-cmd is not installed (apt-get install trace-cmd)";
  return {};
}

struct Recording {
  std::string file;
  std::uint32_t guest_pid = 0;
  CommandResult result;
};

// trace-cmd record of the guest into a tracefs instance of its own (-B), so that other tracing
// on the host and this test leave each other alone. -d and --no-filter keep trace-cmd from the
// function-tracer and pid-filter files a locked-down tracefs refuses (it then fails or crashes);
// the reader keeps only the guest's events anyway. `extra` adds events or options.
Recording record(const TempDir& dir, const std::string& name, std::vector<std::string> extra) {
  Recording rec;
  EXPECT_EQ(::access(kvmscope_bin(), X_OK), 0) << kvmscope_bin() << " is not built";
  rec.file = dir.path() + "/" + name + ".dat";
  const std::string pid_file = dir.path() + "/" + name + ".pid";
  const std::string instance = "kvmscope-tracedat-" + std::to_string(::getpid()) + "-" + name;
  std::vector<std::string> argv = {"trace-cmd", "record", "-d", "--no-filter", "-B", instance};
  for (const char* e : {"kvm:kvm_userspace_exit", "kvm:kvm_pio", "kvm:kvm_mmio", "kvm:kvm_msr",
                        "kvm:kvm_cpuid", "sched:sched_process_exit"}) {
    argv.push_back("-e");
    argv.push_back(e);
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"-o", rec.file, "--", "sh", "-c",
                           "echo $$ >" + pid_file + "; exec " + kvmscope_bin() + kGuest});
  // trace-cmd copies /proc/kallsyms into the file and fails ("error in size of file
  // '/proc/kallsyms'") when it changes meanwhile: BPF programs that other tools load and unload
  // are in it. Such a run wrote nothing; it is tried again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    rec.result = run_command(argv, 120);
    // trace-cmd may leave its instance behind when a locked-down tracefs refuses its cleanup.
    ::rmdir(("/sys/kernel/tracing/instances/" + instance).c_str());
    if (rec.result.err.find("error in size of file '/proc/kallsyms'") == std::string::npos) break;
  }
  std::ifstream pid(pid_file);
  pid >> rec.guest_pid;
  struct stat st {};
  EXPECT_EQ(::stat(rec.file.c_str(), &st), 0)
      << "trace-cmd wrote no " << rec.file << " (exit " << rec.result.exit_code << "):\n"
      << rec.result.out << rec.result.err;
  return rec;
}

struct Counts {
  std::map<std::pair<int, std::uint64_t>, long> by_type_a;  // (type, a) of the guest's events
  std::vector<std::uint32_t> tids;
  bool ordered = true;
  std::vector<std::string> notes;
  bool complete = false;
  std::string detail;
};

Counts read(const std::string& file, std::uint32_t tgid) {
  Counts c;
  auto r = tracedat::TraceDatReader::open(file);
  EXPECT_TRUE(r.ok()) << r.error().message();
  if (!r) return c;
  std::uint64_t last = 0;
  for (;;) {
    auto batch = r->next();
    if (!batch || batch->empty()) break;
    for (const ks_event& e : *batch) {
      c.ordered &= e.ts_ns >= last;
      last = e.ts_ns;
      if (e.tgid != tgid) continue;  // other VMs on this host
      ++c.by_type_a[{e.type, e.a}];
      if (e.type != KS_EV_PROCESS_EXIT) c.tids.push_back(e.tid);
    }
  }
  c.notes = r->notes();
  c.complete = r->complete();
  c.detail = r->error_detail();
  return c;
}

void expect_guest_exits(const Counts& c) {
  auto n = [&](int type, std::uint64_t a) {
    auto it = c.by_type_a.find({type, a});
    return it == c.by_type_a.end() ? 0 : it->second;
  };
  EXPECT_EQ(n(KS_EV_USERSPACE_EXIT, kKvmExitIo), 300);
  EXPECT_EQ(n(KS_EV_USERSPACE_EXIT, kKvmExitMmio), 50);
  EXPECT_EQ(n(KS_EV_PIO, 0x10), 300);
  EXPECT_EQ(n(KS_EV_MMIO, 0xa0000), 50);
  EXPECT_EQ(n(KS_EV_MSR, 0x1a0), 20);
  EXPECT_EQ(n(KS_EV_CPUID, 0), 70);
  EXPECT_TRUE(c.ordered) << "events out of timestamp order";
  EXPECT_TRUE(c.complete) << c.detail;
}

TEST(TraceDatLive, reads_the_exact_guest_exits_for_its_process_when_task_events_are_recorded) {
  if (auto r = skip_reason(); !r.empty()) GTEST_SKIP() << r;
  TempDir dir;
  Recording rec =
      record(dir, "grouped", {"-e", "task:task_newtask", "-e", "sched:sched_process_exec"});
  ASSERT_GT(rec.guest_pid, 0u) << rec.result.err;
  SCOPED_TRACE("trace-cmd exit " + std::to_string(rec.result.exit_code) + ":\n" + rec.result.out +
               rec.result.err);
  Counts c = read(rec.file, rec.guest_pid);
  expect_guest_exits(c);
  // The exits happen on the vCPU thread, not the main thread: grouped by the file's task events.
  ASSERT_FALSE(c.tids.empty());
  for (std::uint32_t tid : c.tids) EXPECT_NE(tid, rec.guest_pid);
  EXPECT_EQ((c.by_type_a[{KS_EV_PROCESS_EXIT, 0}]), 1);
}

TEST(TraceDatLive, counts_the_guest_under_its_vcpu_thread_when_only_kvm_events_are_recorded) {
  if (auto r = skip_reason(); !r.empty()) GTEST_SKIP() << r;
  TempDir dir;
  // Only the kvm events, in the older file version: a thread id is all the file knows.
  Recording rec = record(dir, "plain", {"--file-version", "6"});
  ASSERT_GT(rec.guest_pid, 0u) << rec.result.err;
  SCOPED_TRACE("trace-cmd exit " + std::to_string(rec.result.exit_code) + ":\n" + rec.result.out +
               rec.result.err);
  // Other VMs may run on this host meanwhile (nothing filters by pid): the guest's vCPU thread is
  // one of the "processes" whose ids follow the guest's, and exactly one has its exits.
  auto r = tracedat::TraceDatReader::open(rec.file);
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::set<std::uint32_t> candidates;
  for (;;) {
    auto batch = r->next();
    if (!batch || batch->empty()) break;
    for (const ks_event& e : *batch) {
      EXPECT_EQ(e.tgid, e.tid);  // nothing in the file says otherwise
      if (e.tgid > rec.guest_pid && e.tgid - rec.guest_pid < 4096) candidates.insert(e.tgid);
    }
  }
  int matching = 0;
  for (std::uint32_t tid : candidates) {
    Counts c = read(rec.file, tid);
    if (c.by_type_a[{KS_EV_PIO, 0x10}] != 300) continue;
    ++matching;
    expect_guest_exits(c);
    bool said = false;
    for (const std::string& note : c.notes) said |= note.find("its own VM") != std::string::npos;
    EXPECT_TRUE(said);
  }
  EXPECT_EQ(matching, 1);
}

}  // namespace
}  // namespace kvmscope::live
