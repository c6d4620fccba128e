// collect::raw_tracepoint_takes, which stands between a tp_btf program and a kernel whose
// tracepoint prototype differs from the one the program reads: checked against this kernel's own
// BTF (readable without privileges), with kvm:kvm_userspace_exit (__u32 reason, int errno; in
// vmlinux where KVM is built in, else in the kvm module's BTF) and sched:sched_process_fork (two
// task pointers). Skipped where the kernel has no BTF or no kvm tracepoints.
#include "collect/tracepoint_btf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <string>

namespace {

using kvmscope::collect::raw_tracepoint_takes;

bool kernel_has(const char* path) {
  return access(path, R_OK) == 0;
}

// Why this kernel cannot show the kvm tracepoints in BTF, or "" where it can: KVM built in
// (no initstate) with vmlinux BTF, or the kvm module with BTF of its own.
std::string no_kvm_btf() {
  if (!kernel_has("/sys/kernel/btf/vmlinux")) return "no /sys/kernel/btf/vmlinux";
  if (!kernel_has("/sys/module/kvm")) return "no KVM in this kernel";
  if (kernel_has("/sys/module/kvm/initstate") && !kernel_has("/sys/kernel/btf/kvm"))
    return "the kvm module has no BTF (/sys/kernel/btf/kvm)";
  return "";
}

#define REQUIRE_KVM_BTF()                                                        \
  do {                                                                           \
    if (const std::string why = no_kvm_btf(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

TEST(RawTracepointTakes, kvm_userspace_exit_takes_a_u32_and_an_int) {
  REQUIRE_KVM_BTF();
  EXPECT_TRUE(raw_tracepoint_takes("kvm_userspace_exit", "kvm", std::array<std::size_t, 2>{4, 4}));
}

// The prototypes kvmscope's tp_btf programs read (collect/tracepoint_btf.h) are this kernel's:
// where one differs, kvmscope takes the classic tracepoint for that event instead.
TEST(RawTracepointTakes, the_kvm_tracepoints_kvmscope_reads_take_what_it_reads) {
  REQUIRE_KVM_BTF();
  auto vmm = raw_tracepoint_takes(kvmscope::collect::kVmmExitTracepoint.name, "kvm",
                                  kvmscope::collect::kVmmExitTracepoint.args);
  EXPECT_TRUE(vmm) << (vmm ? "" : vmm.error().message());
  for (const auto& tp : kvmscope::collect::kDrillTracepoints) {
    auto r = raw_tracepoint_takes(tp.name, "kvm", tp.args);
    EXPECT_TRUE(r) << tp.name << ": " << (r ? "" : r.error().message());
  }
}

TEST(RawTracepointTakes, a_pointer_where_an_integer_is_read_is_named) {
  REQUIRE_KVM_BTF();
  // kvm_pio's fifth argument is the data pointer, not an integer.
  auto r = raw_tracepoint_takes("kvm_pio", "kvm", std::array<std::size_t, 5>{4, 4, 4, 4, 8});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "argument 5 of raw tracepoint kvm_pio is not an integer here");
  // and an integer where a pointer is expected
  r = raw_tracepoint_takes("kvm_pio", "kvm",
                           std::array<std::size_t, 5>{4, 4, 4, kvmscope::collect::kPointerArg,
                                                      kvmscope::collect::kPointerArg});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "argument 4 of raw tracepoint kvm_pio is not a pointer here");
}

TEST(RawTracepointTakes, a_different_argument_count_is_named) {
  REQUIRE_KVM_BTF();
  auto r = raw_tracepoint_takes("kvm_userspace_exit", "kvm", std::array<std::size_t, 3>{4, 4, 4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "raw tracepoint kvm_userspace_exit takes 2 arguments here, not 3");
}

TEST(RawTracepointTakes, a_different_argument_size_is_named) {
  REQUIRE_KVM_BTF();
  auto r = raw_tracepoint_takes("kvm_userspace_exit", "kvm", std::array<std::size_t, 2>{8, 4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "argument 1 of raw tracepoint kvm_userspace_exit is 4 bytes here, not 8");
}

TEST(RawTracepointTakes, a_pointer_argument_is_no_integer) {
  if (!kernel_has("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  // sched_process_fork(struct task_struct *parent, struct task_struct *child)
  auto r = raw_tracepoint_takes("sched_process_fork", "kvm", std::array<std::size_t, 2>{8, 8});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "argument 1 of raw tracepoint sched_process_fork is not an integer here");
}

TEST(RawTracepointTakes, a_missing_tracepoint_is_named_with_where_it_was_looked_for) {
  if (!kernel_has("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  auto r = raw_tracepoint_takes("kvmscope_no_such_tracepoint", "kvmscope_no_such_module",
                                std::array<std::size_t, 1>{4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "no raw tracepoint kvmscope_no_such_tracepoint in vmlinux's BTF, and no BTF for "
            "kvmscope_no_such_module (/sys/kernel/btf/kvmscope_no_such_module)");
}

}  // namespace
