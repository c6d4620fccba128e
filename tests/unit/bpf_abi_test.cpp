// What the BPF programs and user space share (src/bpf/kvmscope_bpf.h): the drill-down flags are
// packed and unpacked by the same helpers, the KVM_EXIT_* a drill-down causes is one rule, and a
// counter key's level and reason read the same everywhere (model/exit_key.h).
#include <gtest/gtest.h>

#include "bpf/kvmscope_bpf.h"
#include "model/exit_key.h"

namespace kvmscope::model {
namespace {

TEST(BpfAbi, port_flags_round_trip_direction_and_size) {
  for (ks_u32 out : {0u, 1u}) {
    for (ks_u32 size : {1u, 2u, 4u}) {
      const ks_u8 flags = ks_port_flags(out, size);
      EXPECT_EQ(ks_port_flags_out(flags), static_cast<int>(out));
      EXPECT_EQ(ks_port_flags_size(flags), size);
    }
  }
  EXPECT_EQ(ks_port_flags(1, 4), 0x9);  // the layout the kernel side writes: out | size << 1
}

TEST(BpfAbi, msr_flags_round_trip_write_and_fault) {
  EXPECT_EQ(ks_msr_flags(0, 0), 0);
  EXPECT_EQ(ks_msr_flags(1, 0), 1);
  EXPECT_EQ(ks_msr_flags(0, 1), 2);
  EXPECT_EQ(ks_msr_flags(1, 1), 3);
  EXPECT_TRUE(ks_msr_flags_write(ks_msr_flags(1, 0)));
  EXPECT_FALSE(ks_msr_flags_fault(ks_msr_flags(1, 0)));
  EXPECT_TRUE(ks_msr_flags_fault(ks_msr_flags(0, 1)));
}

TEST(BpfAbi, a_drill_down_causes_only_its_own_exit_to_the_vmm) {
  EXPECT_TRUE(ks_drill_causes(KS_DRILL_PORT, KS_KVM_EXIT_IO));
  EXPECT_FALSE(ks_drill_causes(KS_DRILL_PORT, KS_KVM_EXIT_MMIO));
  EXPECT_TRUE(ks_drill_causes(KS_DRILL_MMIO, KS_KVM_EXIT_MMIO));
  EXPECT_TRUE(ks_drill_causes(KS_DRILL_MSR, KS_KVM_EXIT_X86_RDMSR));
  EXPECT_TRUE(ks_drill_causes(KS_DRILL_MSR, KS_KVM_EXIT_X86_WRMSR));
  EXPECT_TRUE(ks_drill_causes(KS_DRILL_HYPERCALL, KS_KVM_EXIT_HYPERCALL));
  for (ks_u32 exit : {0u, 2u, 3u, 5u, 6u, 8u, 29u, 30u})
    EXPECT_FALSE(ks_drill_causes(KS_DRILL_CPUID, exit)) << "CPUID never leaves the kernel";
}

TEST(BpfAbi, level_and_reason_of_a_counter_key) {
  EXPECT_EQ(level_from_bpf(KS_LEVEL_HW), Level::hardware);
  EXPECT_EQ(level_from_bpf(KS_LEVEL_VMM), Level::vmm);
  ks_exit_key key{};
  key.tgid = 7;
  key.reason = 30;
  key.isa = KS_ISA_SVM;
  key.level = KS_LEVEL_HW;
  EXPECT_EQ(reason_of(key), (Reason{Level::hardware, Isa::svm, 30}));
  key.level = KS_LEVEL_VMM;
  key.isa = KS_ISA_NONE;
  key.reason = KS_KVM_EXIT_HLT;
  EXPECT_EQ(reason_of(key), (Reason{Level::vmm, Isa::none, KS_KVM_EXIT_HLT}));
}

}  // namespace
}  // namespace kvmscope::model
