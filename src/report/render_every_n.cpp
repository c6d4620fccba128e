// The every-N block in the format of the kernel patches that print exit statistics, so existing
// scripts that grep "kvm exit 30 (IO_INSTRUCTION): 1419909" keep working.
#include <cstdio>

#include "report/render.h"

namespace kvmscope::report {

void render_every_n(std::uint64_t total, double seconds_since_start,
                    const std::map<model::Reason, std::uint64_t>& cumulative,
                    const model::ReasonCatalog& catalog, std::ostream& out) {
  char when[32];
  std::snprintf(when, sizeof when, "%.3f", seconds_since_start);
  out << "--- kvmscope: " << total << " exits at " << when << " s ---\n";
  // std::map order is (level, isa, code): hardware exits first, each isa in code order.
  for (const auto& [reason, count] : cumulative) {
    if (count == 0) continue;
    out << (reason.level == model::Level::vmm ? "kvm userspace exit " : "kvm exit ")
        << catalog.code_text(reason) << " (" << catalog.name(reason) << "): " << count << '\n';
  }
}

}  // namespace kvmscope::report
