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

// What raw_tracepoint_takes says against this kernel: "" where it accepts.
template <std::size_t N>
std::string refusal(const char* name, const char* module, const std::array<std::size_t, N>& args) {
  auto r = raw_tracepoint_takes(name, module, args);
  return r ? "" : r.error().message();
}

using Args2 = std::array<std::size_t, 2>;
using Args5 = std::array<std::size_t, 5>;
constexpr std::size_t kPtr = kvmscope::collect::kPointerArg;

TEST(RawTracepointTakes, kvm_userspace_exit_takes_a_u32_and_an_int) {
  REQUIRE_KVM_BTF();
  EXPECT_EQ(refusal("kvm_userspace_exit", "kvm", Args2{4, 4}), "");
}

// The prototypes kvmscope's tp_btf programs read (collect/tracepoint_btf.h) are this kernel's:
// where one differs, kvmscope takes the classic tracepoint for that event instead.
TEST(RawTracepointTakes, the_kvm_tracepoints_kvmscope_reads_take_what_it_reads) {
  REQUIRE_KVM_BTF();
  const auto& vmm = kvmscope::collect::kVmmExitTracepoint;
  auto r = raw_tracepoint_takes(vmm.name, "kvm", vmm.args);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  for (const auto& tp : kvmscope::collect::kDrillTracepoints) {
    r = raw_tracepoint_takes(tp.name, "kvm", tp.args);
    EXPECT_TRUE(r) << tp.name << ": " << (r ? "" : r.error().message());
  }
}

TEST(RawTracepointTakes, each_way_a_prototype_can_differ_is_named) {
  REQUIRE_KVM_BTF();
  EXPECT_EQ(refusal("kvm_userspace_exit", "kvm", std::array<std::size_t, 3>{4, 4, 4}),
            "raw tracepoint kvm_userspace_exit takes 2 arguments here, not 3");
  EXPECT_EQ(refusal("kvm_userspace_exit", "kvm", Args2{8, 4}),
            "argument 1 of raw tracepoint kvm_userspace_exit is 4 bytes here, not 8");
  // kvm_pio(rw, port, size, count, const void *data)
  EXPECT_EQ(refusal("kvm_pio", "kvm", Args5{4, 4, 4, 4, 8}),
            "argument 5 of raw tracepoint kvm_pio is not an integer here");
  EXPECT_EQ(refusal("kvm_pio", "kvm", Args5{4, 4, 4, kPtr, kPtr}),
            "argument 4 of raw tracepoint kvm_pio is not a pointer here");
}

TEST(RawTracepointTakes, a_pointer_argument_is_no_integer_outside_kvm_too) {
  if (!kernel_has("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  // sched_process_fork(struct task_struct *parent, struct task_struct *child)
  EXPECT_EQ(refusal("sched_process_fork", "kvm", Args2{8, 8}),
            "argument 1 of raw tracepoint sched_process_fork is not an integer here");
  EXPECT_EQ(refusal("sched_process_fork", "kvm", Args2{kPtr, kPtr}), "");
}

TEST(RawTracepointTakes, a_missing_tracepoint_is_named_with_where_it_was_looked_for) {
  if (!kernel_has("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no /sys/kernel/btf/vmlinux";
  EXPECT_EQ(refusal("kvmscope_no_such_tracepoint", "kvmscope_no_such_module",
                    std::array<std::size_t, 1>{4}),
            "no raw tracepoint kvmscope_no_such_tracepoint in vmlinux's BTF, and no BTF for "
            "kvmscope_no_such_module (/sys/kernel/btf/kvmscope_no_such_module)");
}

}  // namespace
