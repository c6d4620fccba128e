// kvmscope record against real KVM on this host: every event of the built-in guest lands in the
// file exactly once, and a full disk leaves a readable prefix.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "live_support.h"
#include "store/recording.h"

namespace {

using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::temp_path;

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

  EXPECT_EQ(counts->userspace_exits[2], 20000u);  // KVM_EXIT_IO
  EXPECT_EQ(counts->userspace_exits[6], 500u);    // KVM_EXIT_MMIO
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
  // The guest was left running on purpose; end it.
  run_command({"/usr/bin/pkill", "-f", "guest --io 400000 --quiet"});
}

}  // namespace
