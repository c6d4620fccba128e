// kvmscope guest: a tiny VMM whose guest makes exactly the VM exits it is asked for, so that a
// tracer watching it can be checked number for number. It is the README's demo workload and the
// workload of every live and nested test.
//
// Semantics
// - Every vCPU performs the whole plan (totals = vcpus x counts). vCPU ids are 0..V-1, each runs
//   on its own thread named like QEMU's, "CPU <n>/KVM".
// - One 16-bit real-mode guest instruction per planned exit, in this order:
//     cpuid      CPUID leaf 0             in kernel  (kvm_cpuid; SVM exit 0x72, VMX 10)
//     msr-read   RDMSR 0x1a0              in kernel  (kvm_msr;   SVM exit 0x7c, VMX 31)
//     msr-write  WRMSR 0x1a0, same value  in kernel  (kvm_msr;   SVM exit 0x7c, VMX 32)
//     vmcall     VMCALL (Intel) / VMMCALL (AMD, Hygon), nr 0x4b53
//                                         in kernel  (kvm_hypercall; SVM exit 0x81, VMX 18);
//                                         KVM answers -KVM_ENOSYS in RAX and resumes the guest
//     mmio       1-byte write to GPA 0xa0000 (no memory slot)  KVM_EXIT_MMIO
//     io         OUTB to port 0x10                             KVM_EXIT_IO
//     hlt        HLT with IF=0, no in-kernel irqchip           KVM_EXIT_HLT
//   MSR 0x1a0 is IA32_MISC_ENABLE: KVM intercepts it on VMX and SVM and emulates it in
//   kvm_{get,set}_msr_common (no vendor code, no CPUID dependency); the VMM reads its value with
//   KVM_GET_MSRS and the guest writes exactly that value back, which KVM accepts as a no-op.
// - Nothing else of those kinds happens, neither for setup nor for ending: loop bookkeeping and
//   progress are plain writes to guest RAM, and the MSR value comes from a host-side ioctl.
// - How the guest ends, never with an exit of a counted kind:
//     Ending::last_exit  the plan has exits to the VMM: the VMM stops at the last planned one and
//                        never resumes the vCPU;
//     Ending::kicked     the plan has only in-kernel work (or nothing): the guest sets
//                        step = DONE in its RAM and spins; the VMM sees it and kicks the thread
//                        out of KVM_RUN with SIGUSR1 (+ kvm_run.immediate_exit): KVM_RUN returns
//                        EINTR (a tracer sees one kvm_userspace_exit "restart" per vCPU).
//     with --query-exits, vCPU 0 then reads the exit-statistics CPUID leaves (exit_query.h)
//                        and ends with one HLT (KVM_EXIT_HLT, in step "query"), after which
//                        the VMM reads the answers from guest RAM; the other vCPUs end as above.
//   The VMM checks every exit it gets (kind, port/GPA, size, direction, the guest's step) and
//   that each kind happened exactly as planned; anything else is an error.
// - It never hangs: the guest ticks a counter in its RAM per instruction; a vCPU whose tick and
//   exits do not move for plan.timeout_s seconds stops the run as Ending::stalled (kvm_pvm, for
//   one, emulates guests and never completes VMCALL). SIGINT/SIGTERM stop it as
//   Ending::interrupted. Either way the counts say what was done so far.
// - run() blocks SIGINT and SIGTERM while it runs (it waits for them itself) and uses SIGUSR1,
//   with a no-op handler, to kick vCPU threads; both are restored when it returns.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guest/exit_query.h"
#include "guest/plan.h"
#include "util/result.h"

namespace kvmscope::guest {

enum class Ending {
  last_exit,    // the last planned exit to the VMM arrived; the vCPUs were not resumed
  kicked,       // the guest flagged "done" in RAM; a signal took each vCPU out of KVM_RUN
  stalled,      // a vCPU made no progress for plan.timeout_s seconds
  interrupted,  // SIGINT or SIGTERM
};

// A count that may be unknown: printed as "unknown", never as a number made up.
using Count = std::optional<std::uint64_t>;

// How many of `planned` instructions the guest did, from the count it left in its RAM: planned -
// remaining. Unknown when remaining is larger than planned: the guest's RAM no longer holds what
// the VMM put there (a guest that went astray after an instruction KVM did not complete can
// write anywhere), and the difference would wrap around to a huge number.
Count done_from_remaining(std::uint64_t planned, std::uint64_t remaining);

struct VcpuOutcome {
  // Per kind: for exits to the VMM, the exits the VMM saw (always known); for in-kernel kinds,
  // the instructions the guest counted as done (read from its RAM; unknown if that is not
  // believable, see done_from_remaining).
  std::array<Count, kKindCount> done{};
  int step = 0;  // the guest's step when it stopped (KS_STEP_* of guest_layout.h)

  VcpuOutcome() { done.fill(0); }
  Count operator[](Kind kind) const { return done[static_cast<std::size_t>(kind)]; }
};

struct Outcome {
  std::vector<VcpuOutcome> vcpus;
  double elapsed_s = 0;  // from the release of the vCPUs to the end of the last one
  Ending ending = Ending::last_exit;
  int signal = 0;      // Ending::interrupted: which signal
  std::string detail;  // Ending::stalled: one line, which vCPU, which step and the likely reason
  // plan.query_exits: what vCPU 0 read, once it reached the query's HLT (absent otherwise).
  std::optional<ExitQuery> query;

  // Sums over the vCPUs (and kinds); unknown as soon as one of the counts is.
  Count total(Kind kind) const;
  Count total() const;
  bool completed() const { return ending == Ending::last_exit || ending == Ending::kicked; }
};

// "12" or "unknown".
std::string count_text(Count count);

// Name of a KS_STEP_* value: "cpuid", ..., "query", "start" (never ran), "done".
std::string_view step_name(int step);

// Runs the plan on /dev/kvm. An error is a failure to set up or an exit the plan did not call for
// (one line, with a hint); a stall or an interrupt is an Outcome, with what was done so far.
util::Result<Outcome> run(const Plan& plan);

}  // namespace kvmscope::guest
