// What an exit is counted by: VM (process), vCPU, and the reason (level, isa, code).
#pragma once

#include <compare>
#include <cstdint>

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::model {

enum class Level : std::uint8_t {
  hardware = KS_LEVEL_HW,  // kvm:kvm_exit
  vmm = KS_LEVEL_VMM,      // kvm:kvm_userspace_exit
};

// Values of the kernel's `isa` field in kvm:kvm_exit; arm64 has none, kvmscope gives it 3.
enum class Isa : std::uint16_t {
  none = KS_ISA_NONE,
  vmx = KS_ISA_VMX,
  svm = KS_ISA_SVM,
  arm64 = 3,
};

struct Reason {
  Level level = Level::hardware;
  Isa isa = Isa::none;
  std::uint32_t code = 0;  // raw: VMX flags in the high bits stay, the catalog masks them
  auto operator<=>(const Reason&) const = default;
};

inline constexpr std::uint32_t kUnknownVcpu = KS_VCPU_UNKNOWN;

struct ExitKey {
  std::uint32_t vm_pid = 0;
  std::uint32_t vcpu = kUnknownVcpu;
  Reason reason;
  auto operator<=>(const ExitKey&) const = default;
};

// The level of a BPF counter key or event (KS_LEVEL_*).
constexpr Level level_from_bpf(std::uint8_t level) {
  return level == KS_LEVEL_VMM ? Level::vmm : Level::hardware;
}

// The reason of a BPF counter key (the collector's maps, the streamed exits).
constexpr Reason reason_of(const ks_exit_key& key) {
  return {level_from_bpf(key.level), static_cast<Isa>(key.isa), key.reason};
}

const char* level_name(Level level);  // "hardware" / "vmm"
const char* isa_name(Isa isa);        // "vmx" / "svm" / "arm64" / "none"

}  // namespace kvmscope::model
