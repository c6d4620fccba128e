// kvmscope guest --query-exits: what vCPU 0 read from the exit-statistics CPUID leaves of the
// kernel/ patch (exit_query_abi.h), decoded. Pure, so that the decoding and the code ranges are
// tested without /dev/kvm.
//
// What each number includes (the guest asks in this order, one CPUID per read):
//   1. the probe: leaf 0x4ffffffd with ECX = 0xfffffff0 (no such reason);
//   2. total exits (0x4fffffff), 3. total cycles (0x4ffffffe);
//   4. for each code i = 0, 1, ... of the vendor's range: its exits (0x4ffffffd), then its
//      cycles (0x4ffffffc).
// Every one of those CPUIDs is itself an exit that KVM counts (reason cpuid). A read therefore
// sees every exit of the VM so far (the plan's, on every vCPU) plus the query's own CPUIDs that
// completed before it: `cpuids_before` of the read, plus the reading CPUID itself, which the
// patch counts before answering (its cycles are not in yet; kernel/README.md). kvmscope reports
// the numbers it was given and never subtracts anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvmscope::guest {

struct CpuidRegs {
  std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool operator==(const CpuidRegs&) const = default;
};

// Which exit-reason numbering the host's CPU uses (CPUID vendor string).
enum class Vendor { intel, amd, unknown };

// "GenuineIntel" -> intel; "AuthenticAMD", "HygonGenuine" -> amd; else unknown.
Vendor vendor_of(std::string_view vendor_string);
// The vendor string of the CPU this runs on (leaf 0: EBX EDX ECX).
std::string host_vendor_string();
// "vmx" / "svm" / "none".
std::string_view isa_of(Vendor vendor);

// The codes the guest asks about: VMX basic exit reasons 0..80 on Intel; SVM exit codes
// 0x000..0x0ff and 0x400..0x403 (npf, the AVIC exits, vmgexit) on AMD; none otherwise.
std::vector<std::uint32_t> query_codes(Vendor vendor);

// A patched KVM calls the probe's reason undefined: EAX = EBX = ECX = 0, EDX = 0xffffffff.
bool answers_probe(const CpuidRegs& probe);

// One per-reason answer.
enum class Answer {
  counted,     // EDX = 0: a defined reason (its value may be 0)
  undefined,   // EAX = EBX = ECX = 0, EDX = 0xffffffff: the hardware has no such reason
  unexpected,  // anything else: not what the ABI allows
};
Answer classify(const CpuidRegs& regs);

// The value of each leaf: exits in EAX, cycles in EBX (high) : ECX (low).
inline std::uint64_t exits_of(const CpuidRegs& r) {
  return r.eax;
}
inline std::uint64_t cycles_of(const CpuidRegs& r) {
  return (std::uint64_t{r.ebx} << 32) | r.ecx;
}

// Registers as the guest stored them (read from its RAM after its final HLT).
struct RawEntry {
  std::uint32_t code = 0;
  CpuidRegs exits;   // leaf 0x4ffffffd
  CpuidRegs cycles;  // leaf 0x4ffffffc
};
struct RawQuery {
  CpuidRegs probe;
  CpuidRegs total_exits;          // leaf 0x4fffffff
  CpuidRegs total_cycles;         // leaf 0x4ffffffe
  std::vector<RawEntry> entries;  // those the guest answered (KS_Q_DONE), in query order
  std::size_t asked = 0;          // codes the VMM asked about
};

struct ReasonReading {
  std::uint32_t code = 0;
  Answer answer = Answer::counted;  // of the exits read; `unexpected` if either read was
  std::uint64_t exits = 0;
  std::uint64_t cycles = 0;
  std::uint64_t cpuids_before_exits = 0;   // query CPUIDs completed before the exits read
  std::uint64_t cpuids_before_cycles = 0;  // ... before the cycles read
  CpuidRegs exits_regs, cycles_regs;       // as answered, for an unexpected answer's message
};

struct ExitQuery {
  Vendor vendor = Vendor::unknown;  // of the host CPU: which codes were asked (set by run())
  std::string vendor_string;
  bool answered = false;  // the probe came back as a patched KVM answers it
  CpuidRegs probe;
  std::uint64_t total_exits = 0;
  std::uint64_t total_cycles = 0;
  std::uint64_t cpuids_before_total_exits = 0;   // 1: the probe
  std::uint64_t cpuids_before_total_cycles = 0;  // 2
  std::vector<ReasonReading> reasons;            // every code asked, in query order
  std::size_t asked = 0;
  std::uint64_t query_cpuids = 0;  // CPUIDs the query executed in all
};

// Decodes what the guest stored. Without the probe's answer, nothing else was asked.
ExitQuery decode_query(const RawQuery& raw);

}  // namespace kvmscope::guest
