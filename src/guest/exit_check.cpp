#include "guest/exit_check.h"

#include <cstdio>

#include "guest/guest.h"
#include "guest/guest_layout.h"
#include "util/strings.h"

namespace kvmscope::guest {

namespace {

using util::hex;

// What the exit was, with the fields that tell why it is not ours.
std::string describe(const kvm_run& run) {
  std::string name = exit_reason_name(run.exit_reason);
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      return name + " (" + (run.io.direction == KVM_EXIT_IO_OUT ? "out" : "in") + ", port " +
             hex(run.io.port) + ", size " + std::to_string(run.io.size) + ", count " +
             std::to_string(run.io.count) + ")";
    case KVM_EXIT_MMIO:
      return name + " (" + (run.mmio.is_write ? "write" : "read") + ", GPA " +
             hex(run.mmio.phys_addr) + ", len " + std::to_string(run.mmio.len) + ")";
    case KVM_EXIT_FAIL_ENTRY:
      return name + " (hardware reason " + hex(run.fail_entry.hardware_entry_failure_reason) + ")";
    case KVM_EXIT_INTERNAL_ERROR:
      return name + " (suberror " + std::to_string(run.internal.suberror) + ")";
    case KVM_EXIT_SHUTDOWN:
      return name + " (the guest triple-faulted)";
    default:
      return name;
  }
}

}  // namespace

std::string exit_reason_name(unsigned reason) {
  static constexpr const char* kNames[] = {
      "KVM_EXIT_UNKNOWN",
      "KVM_EXIT_EXCEPTION",
      "KVM_EXIT_IO",
      "KVM_EXIT_HYPERCALL",
      "KVM_EXIT_DEBUG",
      "KVM_EXIT_HLT",
      "KVM_EXIT_MMIO",
      "KVM_EXIT_IRQ_WINDOW_OPEN",
      "KVM_EXIT_SHUTDOWN",
      "KVM_EXIT_FAIL_ENTRY",
      "KVM_EXIT_INTR",
      "KVM_EXIT_SET_TPR",
      "KVM_EXIT_TPR_ACCESS",
      "KVM_EXIT_S390_SIEIC",
      "KVM_EXIT_S390_RESET",
      "KVM_EXIT_DCR",
      "KVM_EXIT_NMI",
      "KVM_EXIT_INTERNAL_ERROR",
      "KVM_EXIT_OSI",
      "KVM_EXIT_PAPR_HCALL",
      "KVM_EXIT_S390_UCONTROL",
      "KVM_EXIT_WATCHDOG",
      "KVM_EXIT_S390_TSCH",
      "KVM_EXIT_EPR",
      "KVM_EXIT_SYSTEM_EVENT",
      "KVM_EXIT_S390_STSI",
      "KVM_EXIT_IOAPIC_EOI",
      "KVM_EXIT_HYPERV",
      "KVM_EXIT_ARM_NISV",
      "KVM_EXIT_X86_RDMSR",
      "KVM_EXIT_X86_WRMSR",
  };
  if (reason < std::size(kNames)) return kNames[reason];
  return "exit reason " + std::to_string(reason);
}

util::Result<Kind> check_exit(const kvm_run& run, unsigned vcpu_id, int step) {
  bool ours = false;
  Kind kind = Kind::hlt;
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO:
      kind = Kind::mmio;
      ours = run.mmio.is_write && run.mmio.len == 1 && run.mmio.phys_addr == KS_GUEST_MMIO_GPA;
      break;
    case KVM_EXIT_IO:
      kind = Kind::io;
      ours = run.io.direction == KVM_EXIT_IO_OUT && run.io.port == KS_GUEST_IO_PORT &&
             run.io.size == 1 && run.io.count == 1;
      break;
    case KVM_EXIT_HLT:
      kind = Kind::hlt;
      ours = true;
      break;
    default:
      break;
  }
  // The guest performs one kind per step, so an exit of another kind than its step's is not ours.
  ours = ours && step == static_cast<int>(kind) + KS_STEP_CPUID;
  if (ours) return kind;
  return util::plain_error("vCPU " + std::to_string(vcpu_id) + ": unexpected " + describe(run) +
                           " in step " + std::string(step_name(step)));
}

}  // namespace kvmscope::guest
