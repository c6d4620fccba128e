// Judges one exit the guest's vCPU made to the VMM: it must be exactly the instruction of the
// step the guest is in (an OUTB to our port, a 1-byte MMIO write to our GPA, a HLT). Anything
// else means the guest or KVM did something the plan did not ask for, and the run must fail
// rather than report counts a tracer would not match.
#pragma once

#include <linux/kvm.h>

#include <string>

#include "guest/plan.h"
#include "util/result.h"

namespace kvmscope::guest {

// `step` is the guest's KS_STEP_* at the time of the exit. The error names the vCPU, the exit
// and its details, e.g. "vCPU 0: unexpected KVM_EXIT_IO (in, port 0x61, size 1) in step cpuid".
util::Result<Kind> check_exit(const kvm_run& run, unsigned vcpu_id, int step);

// "KVM_EXIT_IO" for the exit reasons of <linux/kvm.h>, "exit reason 99" for others.
std::string exit_reason_name(unsigned reason);

}  // namespace kvmscope::guest
