// kvmscope record against real KVM on this host: every event of the built-in guest lands in the
// file exactly once, and a full disk leaves a readable prefix.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "live_support.h"
#include "store/recording.h"
#include "support/mini_json.h"
#include "util/proc.h"

namespace {

using kvmscope::live::Background;
using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::slurp;
using kvmscope::live::temp_path;
using kvmscope::testing::Json;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::uintmax_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// Runs, as opposed to gone or a zombie waiting to be reaped.
bool running(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' &&
         stat[paren + 2] != 'X';
}

// A child of `parent` (from /proc/*/stat), 0 if it has none.
pid_t child_of(pid_t parent) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp("/proc/" + name + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string state;
    long ppid = 0;
    if (fields >> state >> ppid && ppid == parent) return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

// "ending the command (pid 4242)" in record's stderr: the pid, 0 when it is not there.
pid_t ended_command_pid(const std::string& err) {
  const std::string what = "ending the command (pid ";
  const auto at = err.find(what);
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::stol(err.substr(at + what.size())));
}

// record's summary "kvmscope record: N events in 1.23 s (...": the seconds, -1 when missing.
double record_seconds(const std::string& err) {
  const auto at = err.find(" events in ");
  return at == std::string::npos ? -1 : std::stod(err.substr(at + 11));
}

// record prints the span to 2 decimals, report's JSON to the ns: the same number.
void expect_same_span(const std::string& record_err, const Json& report) {
  const double json_s = report["duration_s"].number();
  EXPECT_NEAR(record_seconds(record_err), json_s, 0.005 + 1e-9) << record_err;
}

struct Counts {
  std::map<int, std::uint64_t> by_type;
  std::map<std::uint64_t, std::uint64_t> userspace_exits;  // by KVM_EXIT_*
  std::map<std::uint32_t, std::uint64_t> tgids;
  std::uint64_t msr_reads = 0, msr_writes = 0, mmio_writes = 0, port_0x10_out = 0;
};

kvmscope::util::Result<Counts> read_counts(kvmscope::store::Reader& reader) {
  Counts c;
  for (;;) {
    auto batch = reader.next();
    if (!batch) return batch.error();
    if (batch->empty()) return c;
    for (const ks_event& e : *batch) {
      ++c.by_type[e.type];
      ++c.tgids[e.tgid];
      if (e.type == KS_EV_USERSPACE_EXIT) ++c.userspace_exits[e.a];
      if (e.type == KS_EV_MSR) ++(e.b ? c.msr_writes : c.msr_reads);
      if (e.type == KS_EV_MMIO && e.b == 2) ++c.mmio_writes;
      if (e.type == KS_EV_PIO && e.a == 0x10 && e.b == 1) ++c.port_0x10_out;
    }
  }
}

TEST(LiveRecord, stores_every_event_of_the_guest_exactly_once) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("guest.kvms");
  auto r = run_command({kvmscope_bin(), "record", "-o", file, "--", kvmscope_bin(), "guest", "--io",
                        "20000", "--mmio", "500", "--msr-read", "300", "--msr-write", "100",
                        "--cpuid", "700", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("lost: 0\n"), std::string::npos) << r.err;

  auto reader = kvmscope::store::Reader::open(file);
  ASSERT_TRUE(reader) << reader.error().message();
  auto counts = read_counts(*reader);
  std::remove(file.c_str());
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_TRUE(reader->complete());
  EXPECT_FALSE(reader->truncated());
  ASSERT_EQ(counts->tgids.size(), 1u) << "only the guest's process was traced";

  EXPECT_EQ(counts->userspace_exits[KS_KVM_EXIT_IO], 20000u);
  EXPECT_EQ(counts->userspace_exits[KS_KVM_EXIT_MMIO], 500u);
  EXPECT_EQ(counts->userspace_exits.size(), 2u);
  EXPECT_EQ(counts->by_type[KS_EV_PIO], 20000u);
  EXPECT_EQ(counts->port_0x10_out, 20000u);
  EXPECT_EQ(counts->by_type[KS_EV_MMIO], 500u);
  EXPECT_EQ(counts->mmio_writes, 500u);
  EXPECT_EQ(counts->msr_reads, 300u);
  EXPECT_EQ(counts->msr_writes, 100u);
  EXPECT_EQ(counts->by_type[KS_EV_CPUID], 700u);
  // One KVM_RUN to start, one after every exit to the VMM but the last (the guest ends there).
  EXPECT_EQ(counts->by_type[KS_EV_KVM_RUN], 20500u);
  EXPECT_EQ(counts->by_type[KS_EV_PROCESS_EXIT], 1u);

  std::uint64_t lost = 0;
  for (const auto& [cpu, n] : reader->lost_per_cpu()) lost += n;
  EXPECT_EQ(lost, 0u);
  ASSERT_EQ(reader->markers().size(), 2u);
  EXPECT_EQ(reader->markers()[0].label, "command started");
  EXPECT_EQ(reader->markers()[1].label, "command exited status 0");
  EXPECT_EQ(reader->vms().size(), 1u);
  EXPECT_NE(reader->info().tracefs_formats.count("kvm_exit"), 0u);
}

TEST(LiveRecord, of_a_shell_command_only_the_guest_is_a_vm) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("sh.kvms");
  const std::string script = std::string("true; ") + kvmscope_bin() + " guest --io 100 --quiet";
  auto r = run_command({kvmscope_bin(), "record", "-o", file, "--", "sh", "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto reader = kvmscope::store::Reader::open(file);
  ASSERT_TRUE(reader) << reader.error().message();
  ASSERT_TRUE(read_counts(*reader));
  // Only the guest may be named (when record met it running: a short one may be gone first).
  for (const auto& [pid, vm] : reader->vms()) EXPECT_EQ(vm.comm, "kvmscope") << pid;

  auto text = run_command({kvmscope_bin(), "report", file});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(occurrences(text.out, "Boot of VM"), 1u) << text.out;
  EXPECT_EQ(text.out.find("(sh)"), std::string::npos) << text.out;

  auto json = run_command({kvmscope_bin(), "report", file, "--json"});
  std::remove(file.c_str());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json doc = Json::parse(json.out);
  expect_same_span(r.err, doc);  // from the command's start to the recording's end
  ASSERT_EQ(doc["boots"].items.size(), 1u);
  EXPECT_EQ(doc["boots"].items[0]["start"].str(), "command_started");
  EXPECT_EQ(doc["boots"].items[0]["vmm_exits"].u64(), 100u);
  for (const auto& vm : doc["vms"].items) EXPECT_EQ(vm["comm"].str(), "kvmscope") << json.out;
}

// The recording marks how the command ended: a signal by its name, not as "exited status 137";
// record exits with 128 + N and says so.
TEST(LiveRecord, marks_a_command_killed_by_a_signal_by_its_name) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("killed.kvms");
  auto r = run_command({kvmscope_bin(), "record", "-o", file, "--", "sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  EXPECT_NE(r.err.find(") was killed by SIGKILL\n"), std::string::npos) << r.err;
  auto reader = kvmscope::store::Reader::open(file);
  std::remove(file.c_str());
  ASSERT_TRUE(reader) << reader.error().message();
  ASSERT_TRUE(read_counts(*reader));  // the markers are in the trailer, after the events
  ASSERT_EQ(reader->markers().size(), 2u);
  EXPECT_EQ(reader->markers()[1].label, "command killed by SIGKILL");
}

TEST(LiveRecord, a_vm_started_during_a_whole_host_recording_has_its_start_seen) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("all.kvms");
  Background record({kvmscope_bin(), "record", "-a", "-o", file}, temp_path("all.out"), true);
  // The file's header is written once the collector runs; the guest then starts after the
  // recording began. Process start times are known to the clock tick (10 ms): it waits 5 ticks.
  while (file_size(file) == 0 && running(record.pid())) ::usleep(10'000);
  ::usleep(50'000);
  // record reads the start from /proc when it meets the VM's first events (within 100 ms): the
  // guest runs long enough (20,000 exits to the VMM: seconds here) to be met alive.
  Background guest({kvmscope_bin(), "guest", "--io", "20000", "--quiet"}, temp_path("all.guest"));
  ASSERT_EQ(guest.wait(), 0);
  ASSERT_EQ(record.stop(SIGINT), 0) << record.output();

  auto json = run_command({kvmscope_bin(), "report", file, "--json"});
  std::remove(file.c_str());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  // Other VMs on the host may be in it too (and processes that only exited, none a VM).
  Json doc = Json::parse(json.out);
  expect_same_span(record.output(), doc);  // the recording's start to its end
  std::size_t guests = 0;
  for (const auto& boot : doc["boots"].items) {
    if (boot["vm_pid"].u64() != static_cast<std::uint64_t>(guest.pid())) continue;
    ++guests;
    EXPECT_EQ(boot["start"].str(), "process_started");
    EXPECT_EQ(boot["end"].str(), "process_exit");
    EXPECT_TRUE(boot["complete"].boolean);
    EXPECT_EQ(boot["vmm_exits"].u64(), 20000u);
  }
  EXPECT_EQ(guests, 1u) << json.out;
  for (const auto& vm : doc["vms"].items) EXPECT_NE(vm["comm"].str(), "sh") << json.out;
}

TEST(LiveRecord, leaves_a_readable_prefix_when_the_disk_fills_up) {
  KS_REQUIRE_LIVE();
  const std::string dir = temp_path("full");
  ::mkdir(dir.c_str(), 0700);
  // Room for the header and a few full blocks (65,536 events, ~220 KiB uncompressed), far less
  // than the guest's ~4 MB: whatever the flush timing, the disk fills after events were written.
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
    ::rmdir(dir.c_str());
    GTEST_SKIP() << "cannot mount a small tmpfs to fill up";
  }
  const std::string file = dir + "/full.kvms";
  // Uncompressed, so the events outgrow 1 MiB quickly; the guest is long enough to hit it.
  auto r = run_command({kvmscope_bin(), "record", "--no-compress", "-o", file, "--", kvmscope_bin(),
                        "guest", "--io", "400000", "--quiet"},
                       60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  // The command is not left running unrecorded: record ended it (and reaped it) before exiting.
  const pid_t command = ended_command_pid(r.err);
  EXPECT_NE(command, 0) << r.err;
  if (command != 0) {
    EXPECT_FALSE(running(command)) << r.err;
    ::kill(command, SIGKILL);  // should the test fail, not for the next one
  }

  auto reader = kvmscope::store::Reader::open(file);
  ASSERT_TRUE(reader) << reader.error().message();
  auto counts = read_counts(*reader);
  EXPECT_TRUE(counts) << (counts ? "" : counts.error().message());
  EXPECT_FALSE(reader->complete());
  if (counts) {
    EXPECT_GT(counts->by_type[KS_EV_USERSPACE_EXIT], 0u);
  }
  ::umount2(dir.c_str(), MNT_DETACH);
  ::rmdir(dir.c_str());
}

TEST(LiveRecord, a_killed_record_leaves_no_command_running) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("killed.kvms");
  Background record({kvmscope_bin(), "record", "-o", file, "--", kvmscope_bin(), "guest", "--io",
                     "1000000000", "--quiet"},
                    temp_path("killed.out"), true);
  pid_t command = 0;
  for (int i = 0; i < 3000 && command == 0 && running(record.pid()); ++i) {
    ::usleep(10'000);
    command = child_of(record.pid());
  }
  ASSERT_NE(command, 0) << record.output();
  record.signal(SIGKILL);  // no chance to end the command itself
  record.wait();
  // The kernel sends the command SIGTERM as record dies; it ends at once (bounded wait: 10 s).
  for (int i = 0; i < 1000 && running(command); ++i) ::usleep(10'000);
  const bool left = running(command);
  if (left) ::kill(command, SIGKILL);
  std::remove(file.c_str());
  EXPECT_FALSE(left) << "record was killed, its command " << command << " still runs";
}

TEST(LiveRecord, a_second_record_to_the_same_file_fails_and_the_first_completes) {
  KS_REQUIRE_LIVE();
  const std::string file = temp_path("twice.kvms");
  Background first({kvmscope_bin(), "record", "-o", file, "--", kvmscope_bin(), "guest", "--io",
                    "1000000000", "--quiet"},
                   temp_path("twice.out"), true);
  // Recording (and stopped cleanly by SIGINT) once its command is started.
  for (int i = 0; i < 3000 && child_of(first.pid()) == 0 && running(first.pid()); ++i)
    ::usleep(10'000);
  // ... and its guest has a VM and has run a while: a SIGINT before the guest's first exit would
  // leave nothing to count (seen on a loaded machine).
  const pid_t guest = child_of(first.pid());
  for (int i = 0; i < 3000 && guest != 0; ++i) {
    auto vm = kvmscope::util::kvm_vm_state(guest);
    if (!vm || *vm == kvmscope::util::KvmVmState::open) break;
    ::usleep(10'000);
  }
  ::usleep(300'000);
  for (const char* force : {"", "--force"}) {
    std::vector<std::string> argv{kvmscope_bin(), "record", "-o", file, "--", "true"};
    if (*force) argv.insert(argv.begin() + 2, force);
    auto second = run_command(argv);
    EXPECT_EQ(second.exit_code, 1) << force;
    EXPECT_EQ(second.err,
              *force
                  ? "kvmscope record: " + file + " is being written by another 'kvmscope record'\n"
                  : "kvmscope record: " + file + " exists (use --force to overwrite)\n");
  }
  first.stop(SIGINT);
  auto reader = kvmscope::store::Reader::open(file);
  ASSERT_TRUE(reader) << reader.error().message();
  auto counts = read_counts(*reader);
  std::remove(file.c_str());
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_TRUE(reader->complete()) << first.output();
  EXPECT_GT(counts->by_type[KS_EV_USERSPACE_EXIT], 0u);
}

}  // namespace
