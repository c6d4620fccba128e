// Does the instruction at an exit's RIP fit the exit? The checks that tell a right KASLR offset
// from a wrong one: an io exit's RIP holds IN/OUT/INS/OUTS with the direction and size (and for
// the imm8 forms the port) the exit's kvm_pio said; CPUID is 0f a2, RDMSR 0f 32, WRMSR 0f 30,
// HLT f4, VMCALL 0f 01 c1 (VMX), VMMCALL 0f 01 d9 (SVM). On both SVM and VMX the RIP of these
// exits is the exiting instruction's own (not the next one's).
#pragma once

#include <cstdint>
#include <span>

#include "model/exit_key.h"
#include "model/guest_sites.h"

namespace kvmscope::symbols {

enum class ExitInstruction { none, io, cpuid, rdmsr, wrmsr, msr, hlt, vmcall, vmmcall };

// The instruction a hardware exit reason implies (none: the reason says nothing checkable, e.g.
// an interrupt or a nested page fault). SVM's MSR exit is RDMSR or WRMSR: `msr`.
ExitInstruction exit_instruction(const model::Reason& reason);

// Bytes: from the RIP on, at least 8 where the image has them. `detail` refines the check
// (direction, size, port; read or write).
bool instruction_fits(ExitInstruction what, const model::SiteDetail& detail,
                      std::span<const std::uint8_t> bytes);

}  // namespace kvmscope::symbols
