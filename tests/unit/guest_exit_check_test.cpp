// guest::check_exit: only the exact exit of the guest's current step is accepted.
#include <gtest/gtest.h>

#include "guest/exit_check.h"
#include "guest/guest_layout.h"

namespace kvmscope::guest {
namespace {

kvm_run io_exit(std::uint8_t direction, std::uint16_t port, std::uint8_t size = 1) {
  kvm_run run{};
  run.exit_reason = KVM_EXIT_IO;
  run.io.direction = direction;
  run.io.port = port;
  run.io.size = size;
  run.io.count = 1;
  return run;
}

kvm_run mmio_exit(bool write, std::uint64_t gpa, std::uint32_t len = 1) {
  kvm_run run{};
  run.exit_reason = KVM_EXIT_MMIO;
  run.mmio.is_write = write;
  run.mmio.phys_addr = gpa;
  run.mmio.len = len;
  return run;
}

TEST(GuestExitCheck, accepts_each_planned_exit_in_its_step) {
  auto io = check_exit(io_exit(KVM_EXIT_IO_OUT, KS_GUEST_IO_PORT), 0, KS_STEP_IO);
  ASSERT_TRUE(io) << io.error().message();
  EXPECT_EQ(*io, Kind::io);
  auto mmio = check_exit(mmio_exit(true, KS_GUEST_MMIO_GPA), 0, KS_STEP_MMIO);
  ASSERT_TRUE(mmio) << mmio.error().message();
  EXPECT_EQ(*mmio, Kind::mmio);
  kvm_run hlt{};
  hlt.exit_reason = KVM_EXIT_HLT;
  auto h = check_exit(hlt, 0, KS_STEP_HLT);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(*h, Kind::hlt);
}

TEST(GuestExitCheck, refuses_io_when_in_or_other_port) {
  auto in = check_exit(io_exit(KVM_EXIT_IO_IN, 0x61), 1, KS_STEP_CPUID);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().message(),
            "vCPU 1: unexpected KVM_EXIT_IO (in, port 0x61, size 1, count 1) in step cpuid");
  EXPECT_FALSE(check_exit(io_exit(KVM_EXIT_IO_OUT, 0x11), 0, KS_STEP_IO));
  EXPECT_FALSE(check_exit(io_exit(KVM_EXIT_IO_OUT, KS_GUEST_IO_PORT, 2), 0, KS_STEP_IO));
}

TEST(GuestExitCheck, refuses_mmio_when_read_or_elsewhere) {
  auto read = check_exit(mmio_exit(false, KS_GUEST_MMIO_GPA), 0, KS_STEP_MMIO);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message(),
            "vCPU 0: unexpected KVM_EXIT_MMIO (read, GPA 0xa0000, len 1) in step mmio");
  EXPECT_FALSE(check_exit(mmio_exit(true, 0xb8000), 0, KS_STEP_MMIO));
  EXPECT_FALSE(check_exit(mmio_exit(true, KS_GUEST_MMIO_GPA, 4), 0, KS_STEP_MMIO));
}

TEST(GuestExitCheck, refuses_exit_when_guest_is_in_another_step) {
  auto early = check_exit(io_exit(KVM_EXIT_IO_OUT, KS_GUEST_IO_PORT), 0, KS_STEP_MMIO);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().message(),
            "vCPU 0: unexpected KVM_EXIT_IO (out, port 0x10, size 1, count 1) in step mmio");
  kvm_run hlt{};
  hlt.exit_reason = KVM_EXIT_HLT;
  EXPECT_EQ(check_exit(hlt, 2, KS_STEP_DONE).error().message(),
            "vCPU 2: unexpected KVM_EXIT_HLT in step done");
}

TEST(GuestExitCheck, names_other_exits_when_refusing_them) {
  kvm_run run{};
  run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
  run.internal.suberror = 1;
  EXPECT_EQ(check_exit(run, 0, KS_STEP_CPUID).error().message(),
            "vCPU 0: unexpected KVM_EXIT_INTERNAL_ERROR (suberror 1) in step cpuid");
  run.exit_reason = KVM_EXIT_SHUTDOWN;
  EXPECT_EQ(check_exit(run, 0, KS_STEP_NONE).error().message(),
            "vCPU 0: unexpected KVM_EXIT_SHUTDOWN (the guest triple-faulted) in step start");
  EXPECT_EQ(exit_reason_name(999), "exit reason 999");
}

}  // namespace
}  // namespace kvmscope::guest
