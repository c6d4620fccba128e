#include "guest/exit_query_text.h"

#include <cinttypes>
#include <cstdio>
#include <string>

namespace kvmscope::guest {

namespace {

std::string code_hex(std::uint32_t code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%03x", code);
  return buf;
}

std::string share(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

std::string regs_text(const CpuidRegs& r) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x", r.eax, r.ebx, r.ecx, r.edx);
  return buf;
}

model::Isa isa_enum(Vendor vendor) {
  return vendor == Vendor::amd ? model::Isa::svm : model::Isa::vmx;
}

// Left-aligned cells padded to `widths`, two spaces apart, the last one unpadded.
void write_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
               std::ostream& out) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out << cells[i];
    if (i + 1 < cells.size()) out << std::string(widths[i] - cells[i].size() + 2, ' ');
  }
  out << '\n';
}

}  // namespace

std::uint32_t cpuid_exit_code(Vendor vendor) {
  return vendor == Vendor::amd ? 0x72 : 10;
}

void render_exit_query(const ExitQuery& q, const Plan& plan, const model::ReasonCatalog& catalog,
                       std::ostream& out) {
  std::uint64_t sum = 0;
  std::size_t unseen = 0, undefined = 0, unexpected = 0;
  for (const ReasonReading& r : q.reasons) {
    if (r.answer == Answer::counted) sum += r.exits;
    if (r.answer == Answer::counted && r.exits == 0) ++unseen;
    if (r.answer == Answer::undefined) ++undefined;
    if (r.answer == Answer::unexpected) ++unexpected;
  }
  const std::string isa(isa_of(q.vendor));
  out << "exit statistics of this VM, read by vCPU 0 from KVM's CPUID leaves 0x4ffffffc-"
         "0x4fffffff ("
      << q.vendor_string << ": " << isa << " codes, " << q.asked << " asked, "
      << q.reasons.size() - undefined - unexpected << " defined (" << unseen << " never seen), "
      << undefined << " undefined";
  if (unexpected) out << ", " << unexpected << " answered unexpectedly";
  out << ")\n";

  // code, exits, cycles, share, own, reason
  std::vector<std::vector<std::string>> rows = {
      {"code", "exits", "cycles", "share", "own", "reason"}};
  for (const ReasonReading& r : q.reasons) {
    if (r.answer != Answer::counted || (r.exits == 0 && r.cycles == 0)) continue;
    rows.push_back({code_hex(r.code), std::to_string(r.exits), std::to_string(r.cycles),
                    share(r.exits, sum), std::to_string(r.cpuids_before_exits),
                    catalog.name({model::Level::hardware, isa_enum(q.vendor), r.code})});
  }
  rows.push_back({"total", std::to_string(q.total_exits), std::to_string(q.total_cycles), "",
                  std::to_string(q.cpuids_before_total_exits), "(leaves 0x4fffffff, 0x4ffffffe)"});
  std::vector<std::size_t> widths(6, 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) write_row(row, widths, out);

  out << "exits: as KVM counted them when the row was read; cycles: KVM's cycles handling "
         "them (EBX:ECX); share: of the rows' exits ("
      << sum << ")\n";
  out << "own: the query's own cpuid exits completed before that row's exits read (its cycles "
         "read comes one CPUID later); KVM also counts the reading CPUID before answering it, so "
         "the cpuid row and the total each hold own + 1 of the query's CPUIDs\n";
  out << "the query's own cpuid exits before the totals read: " << q.cpuids_before_total_exits
      << " (exits), " << q.cpuids_before_total_cycles << " (cycles); in all: " << q.query_cpuids
      << " CPUIDs, then one HLT (KVM_EXIT_HLT) ended vCPU 0\n";

  // The cpuid row mixes the workload's CPUIDs with the query's: spelled out, never subtracted.
  const std::uint32_t cpuid = cpuid_exit_code(q.vendor);
  for (const ReasonReading& r : q.reasons) {
    if (r.code != cpuid || r.answer != Answer::counted) continue;
    const std::uint64_t planned = std::uint64_t{plan.vcpus} * plan[Kind::cpuid];
    const auto rest = static_cast<std::int64_t>(r.exits) - static_cast<std::int64_t>(planned) -
                      static_cast<std::int64_t>(r.cpuids_before_exits) - 1;
    out << "cpuid row (" << code_hex(cpuid) << "): " << r.exits << " read = " << planned
        << " planned (" << plan.vcpus << " vCPU" << (plan.vcpus == 1 ? "" : "s") << " x --cpuid "
        << plan[Kind::cpuid] << ") + " << r.cpuids_before_exits
        << " of the query before that read + 1 the reading CPUID + " << rest << " other\n";
  }
  for (const ReasonReading& r : q.reasons)
    if (r.answer == Answer::unexpected)
      out << "unexpected answer for code " << code_hex(r.code) << ": exits "
          << regs_text(r.exits_regs) << "; cycles " << regs_text(r.cycles_regs) << "\n";
}

std::string probe_detail(const ExitQuery& q) {
  return "CPUID 0x4ffffffd with ECX=0xfffffff0 answered " + regs_text(q.probe) +
         "; a patched KVM answers eax=0x0 ebx=0x0 ecx=0x0 edx=0xffffffff";
}

}  // namespace kvmscope::guest
