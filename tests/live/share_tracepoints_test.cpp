// A BPF program on a classic tracepoint decides whether the tracepoint's perf consumers (perf
// stat, perf record, perf kvm stat) still get the event. kvmscope keeps them by default
// (cheapest) and hands them on with --share-tracepoints; on a BTF raw tracepoint, which kvmscope
// takes for kvm_userspace_exit where the kernel's BTF has it, a program takes nothing from perf.
// This counts kvm:kvm_userspace_exit with a real perf counter while kvmscope traces the built-in
// guest.
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "live_support.h"

namespace {

using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;

// Counts one tracepoint in this process and everything it starts afterwards (counting mode,
// inherited by children), so other VMs on the host do not disturb the count.
class TracepointCounter {
 public:
  explicit TracepointCounter(const std::string& event) {
    std::ifstream id_file("/sys/kernel/tracing/events/" + event + "/id");
    std::uint64_t id = 0;
    if (!(id_file >> id)) return;
    perf_event_attr attr = {};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = id;
    attr.disabled = 1;
    attr.inherit = 1;
    int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
    if (fd >= 0) fds_.push_back(fd);
  }
  ~TracepointCounter() {
    for (int fd : fds_) ::close(fd);
  }
  bool ok() const { return !fds_.empty(); }
  void start() {
    for (int fd : fds_) {
      ::ioctl(fd, PERF_EVENT_IOC_RESET, 0);
      ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    }
  }
  std::uint64_t stop() {
    std::uint64_t total = 0;
    for (int fd : fds_) {
      ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
      std::uint64_t n = 0;
      if (::read(fd, &n, sizeof n) == sizeof n) total += n;
    }
    return total;
  }

 private:
  std::vector<int> fds_;
};

// What perf counted of kvm_userspace_exit while argv ran (~0 where it cannot count); the
// command's standard error goes to *err where given.
std::uint64_t perf_count_during(const std::vector<std::string>& argv, std::string* err = nullptr) {
  TracepointCounter counter("kvm/kvm_userspace_exit");
  if (!counter.ok()) return ~0ull;
  counter.start();
  auto r = run_command(argv);
  const std::uint64_t n = counter.stop();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (err) *err = r.err;
  return n;
}

TEST(LiveShareTracepoints, perf_sees_the_events_only_when_shared) {
  KS_REQUIRE_LIVE();
  const std::vector<std::string> guest = {kvmscope_bin(), "guest", "--io", "300", "--quiet"};
  auto with = [&](std::vector<std::string> argv) {
    argv.push_back("--");
    argv.insert(argv.end(), guest.begin(), guest.end());
    return argv;
  };
  // On the classic tracepoint kvmscope keeps the events from perf unless asked to share them.
  const auto kept =
      with({"env", "KVMSCOPE_TRACEPOINTS=classic", kvmscope_bin(), "stat", "-o", "/dev/null"});
  const auto shared = with({"env", "KVMSCOPE_TRACEPOINTS=classic", kvmscope_bin(), "stat",
                            "--share-tracepoints", "-o", "/dev/null"});
  // Its default hooks: on the BTF raw tracepoint (where this kernel has it, -v says) a program
  // takes nothing from perf; on the classic one the default keeps them.
  const auto automatic = with({kvmscope_bin(), "stat", "-v", "-o", "/dev/null"});
  // Any other BPF program on the tracepoint that keeps it (another kvmscope on this host, e.g. a
  // second test run) hides the events from perf as well: the guest alone, measured before and
  // after, tells such a round apart, and it is run again.
  for (int round = 0; round < 5; ++round) {
    const std::uint64_t before = perf_count_during(guest);
    if (before == ~0ull) GTEST_SKIP() << "perf_event_open on the tracepoint failed";
    const std::uint64_t with_kept = perf_count_during(kept);
    const std::uint64_t with_shared = perf_count_during(shared);
    std::string hooks;
    const std::uint64_t with_automatic = perf_count_during(automatic, &hooks);
    const std::uint64_t after = perf_count_during(guest);
    if (before != 300u || after != 300u) {
      ::sleep(1);
      continue;
    }
    EXPECT_EQ(with_kept, 0u)
        << "kvmscope's default keeps the classic tracepoint's events from perf";
    EXPECT_EQ(with_shared, 300u) << "--share-tracepoints hands every one on";
    const bool btf = hooks.find("exits to the VMM: tp_btf/kvm_userspace_exit") != std::string::npos;
    EXPECT_EQ(with_automatic, btf ? 300u : 0u) << hooks;
    return;
  }
  GTEST_SKIP() << "the guest alone never gave perf its 300 kvm_userspace_exit events: another "
                  "tracer on this host keeps them";
}

}  // namespace
