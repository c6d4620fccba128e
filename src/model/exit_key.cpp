#include "model/exit_key.h"

#include <linux/kvm.h>

// The shared header names the KVM ABI values the BPF side needs; they must be the kernel's.
static_assert(KS_KVM_EXIT_IO == KVM_EXIT_IO);
static_assert(KS_KVM_EXIT_HYPERCALL == KVM_EXIT_HYPERCALL);
static_assert(KS_KVM_EXIT_HLT == KVM_EXIT_HLT);
static_assert(KS_KVM_EXIT_MMIO == KVM_EXIT_MMIO);
static_assert(KS_KVM_EXIT_SHUTDOWN == KVM_EXIT_SHUTDOWN);
static_assert(KS_KVM_EXIT_X86_RDMSR == KVM_EXIT_X86_RDMSR);
static_assert(KS_KVM_EXIT_X86_WRMSR == KVM_EXIT_X86_WRMSR);
static_assert(KS_KVM_RUN == KVM_RUN);

namespace kvmscope::model {

const char* level_name(Level level) {
  switch (level) {
    case Level::hardware:
      return "hardware";
    case Level::vmm:
      return "vmm";
  }
  return "?";
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::none:
      return "none";
    case Isa::vmx:
      return "vmx";
    case Isa::svm:
      return "svm";
    case Isa::arm64:
      return "arm64";
  }
  return "?";
}

}  // namespace kvmscope::model
