// Exit reason names compiled in, for when the running kernel's tracefs format files are not
// available (old kernels, no tracefs, recordings read on another machine). Names are spelled as
// the kernel's tracepoints print them, so a table does not change its look when the kernel's own
// names take over.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace kvmscope::model {

using NameTable = std::map<std::uint32_t, std::string>;

// VMX basic exit reasons (exit_reason & 0xffff): Linux VMX_EXIT_REASONS (6.18), plus the SDM's
// reasons KVM does not name ("IO_SMI", "GETSEC", ...).
NameTable builtin_vmx_reasons();
// Flag bits of the VMX exit reason above the basic reason: FAILED_VMENTRY, SGX_ENCLAVE_MODE.
NameTable builtin_vmx_flags();
// SVM exit codes as is: Linux SVM_EXIT_REASONS (6.18), "UD excp", "npf", 0xffffffff
// "invalid_guest_state", the SEV-ES vmgexit codes.
NameTable builtin_svm_reasons();
// arm64 ESR_ELx exception classes ("HVC64", "DABT_LOW"), as kvm_arm_exception_class prints them.
NameTable builtin_arm64_reasons();
// KVM_EXIT_* of include/uapi/linux/kvm.h: "KVM_EXIT_IO", ...
NameTable builtin_kvm_exit_reasons();

}  // namespace kvmscope::model
