#include "guest/exit_query.h"

#include <cpuid.h>

#include <cstring>

#include "guest/exit_query_abi.h"

namespace kvmscope::guest {

Vendor vendor_of(std::string_view vendor_string) {
  if (vendor_string == "GenuineIntel") return Vendor::intel;
  // Hygon's Dhyana is an AMD Zen: SVM, AMD's exit codes.
  if (vendor_string == "AuthenticAMD" || vendor_string == "HygonGenuine") return Vendor::amd;
  return Vendor::unknown;
}

std::string host_vendor_string() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return {};
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  return vendor;
}

std::string_view isa_of(Vendor vendor) {
  switch (vendor) {
    case Vendor::intel:
      return "vmx";
    case Vendor::amd:
      return "svm";
    case Vendor::unknown:
      break;
  }
  return "none";
}

std::vector<std::uint32_t> query_codes(Vendor vendor) {
  std::vector<std::uint32_t> codes;
  switch (vendor) {
    case Vendor::intel:
      // The SDM defines basic reasons up to the 70s; 80 leaves room for new ones, which a
      // patched KVM names undefined until it knows them.
      for (std::uint32_t c = 0; c <= 80; ++c) codes.push_back(c);
      break;
    case Vendor::amd:
      for (std::uint32_t c = 0; c <= 0xff; ++c) codes.push_back(c);
      for (std::uint32_t c = 0x400; c <= 0x403; ++c) codes.push_back(c);
      break;
    case Vendor::unknown:
      break;
  }
  return codes;
}

bool answers_probe(const CpuidRegs& probe) {
  return classify(probe) == Answer::undefined;
}

Answer classify(const CpuidRegs& r) {
  if (r.edx == KS_UNDEFINED_EDX)
    return r.eax == 0 && r.ebx == 0 && r.ecx == 0 ? Answer::undefined : Answer::unexpected;
  return r.edx == 0 ? Answer::counted : Answer::unexpected;
}

ExitQuery decode_query(const RawQuery& raw) {
  ExitQuery q;
  q.probe = raw.probe;
  q.asked = raw.asked;
  q.query_cpuids = 1;
  q.answered = answers_probe(raw.probe);
  if (!q.answered) return q;
  q.total_exits = exits_of(raw.total_exits);
  q.total_cycles = cycles_of(raw.total_cycles);
  q.cpuids_before_total_exits = 1;
  q.cpuids_before_total_cycles = 2;
  q.query_cpuids = 3;
  for (const RawEntry& e : raw.entries) {
    ReasonReading r;
    r.code = e.code;
    r.exits_regs = e.exits;
    r.cycles_regs = e.cycles;
    r.cpuids_before_exits = q.query_cpuids;
    r.cpuids_before_cycles = q.query_cpuids + 1;
    q.query_cpuids += 2;
    const Answer a = classify(e.exits), b = classify(e.cycles);
    r.answer = a == b ? a : Answer::unexpected;  // one reason cannot be both
    if (r.answer == Answer::counted) {
      r.exits = exits_of(e.exits);
      r.cycles = cycles_of(e.cycles);
    }
    q.reasons.push_back(r);
  }
  return q;
}

}  // namespace kvmscope::guest
