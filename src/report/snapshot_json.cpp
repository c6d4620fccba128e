#include "report/snapshot_json.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "report/json_literals.h"
#include "report/percentiles.h"

namespace kvmscope::report {

using model::Level;

const char* source_name(model::NameSource source) {
  return source == model::NameSource::kernel ? "kernel" : "builtin";
}

void write_reason(const model::Reason& r, const model::ReasonCatalog& catalog, std::ostream& out) {
  out << "\"level\": \"" << model::level_name(r.level) << "\", \"isa\": \""
      << model::isa_name(r.isa) << "\", \"code\": " << r.code
      << ", \"code_text\": " << json_string(catalog.code_text(r))
      << ", \"reason\": " << json_string(catalog.name(r));
}

void write_times(const model::ExitStats& s, std::ostream& out, bool event_percentiles) {
  out << "\"count\": " << s.count << ", \"timed\": " << s.timed << ", \"time_ns\": " << s.time_ns
      << ", \"avg_ns\": " << s.avg_ns();
  if (event_percentiles) {
    static constexpr const char* kNames[] = {"p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"};
    // Times summed elsewhere (a kernel log's cycles) have no distribution: null, not 0.
    const bool none = s.timed > 0 && !has_distribution(s);
    const auto values = percentile_values(s);
    for (std::size_t i = 0; i < values.size(); ++i) {
      out << ", \"" << kNames[i] << "\": ";
      if (none) {
        out << "null";
      } else {
        out << values[i];
      }
    }
    return;
  }
  // Times summed elsewhere (a kernel log's cycles) have no distribution: null, not 0.
  if (s.timed > 0 && s.hist.total() == 0) {
    out << ", \"p50_ns\": null, \"p99_ns\": null, \"max_ns\": null";
    return;
  }
  out << ", \"p50_ns\": " << s.p50_ns() << ", \"p99_ns\": " << s.p99_ns()
      << ", \"max_ns\": " << s.max_ns;
}

void write_hist(const model::Histogram& h, std::ostream& out) {
  // The log2 view of the finer slots: the document stays small and its shape stable.
  const auto log2 = h.log2_slots();
  out << "\"hist_log2_ns\": [";
  for (std::size_t i = 0; i < log2.size(); ++i) out << (i ? ", " : "") << log2[i];
  out << "]";
}

void write_exit(const model::ExitKey& key, const model::ExitStats& stats,
                const model::ReasonCatalog& catalog, std::ostream& out, bool event_percentiles) {
  out << "{\"vm_pid\": " << key.vm_pid << ", \"vcpu\": ";
  if (key.vcpu == model::kUnknownVcpu) {
    out << "null";
  } else {
    out << key.vcpu;
  }
  out << ", ";
  write_reason(key.reason, catalog, out);
  out << ", ";
  write_times(stats, out, event_percentiles);
  out << ", ";
  write_hist(stats.hist, out);
  out << "}";
}

void write_names_and_totals(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                            std::ostream& out) {
  out << "  \"names\": {\"vmx\": \""
      << source_name(catalog.source(Level::hardware, model::Isa::vmx)) << "\", \"svm\": \""
      << source_name(catalog.source(Level::hardware, model::Isa::svm)) << "\", \"vmm\": \""
      << source_name(catalog.source(Level::vmm, model::Isa::none)) << "\"},\n"
      << "  \"totals\": {\"hardware\": " << snapshot.total(Level::hardware)
      << ", \"vmm\": " << snapshot.total(Level::vmm) << "},\n";
}

void write_vms_and_exits(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                         std::ostream& out, bool event_percentiles) {
  write_array(
      "vms", snapshot.vms,
      [&](const auto& vm) {
        out << "{\"pid\": " << vm.first << ", \"name\": " << json_string(vm.second.name)
            << ", \"comm\": " << json_string(vm.second.comm) << "}";
      },
      out);
  out << ",\n";

  using Entry = std::pair<model::ExitKey, model::ExitStats>;
  std::vector<Entry> exits;
  for (const auto& [key, stats] : snapshot.exits)
    if (stats.count > 0) exits.emplace_back(key, stats);
  std::sort(exits.begin(), exits.end(), [](const Entry& a, const Entry& b) {
    const auto rank = [](const Entry& e) {  // ~count: larger counts sort first
      return std::make_tuple(e.first.reason.level, e.first.vm_pid, e.first.vcpu, ~e.second.count,
                             e.first.reason);
    };
    return rank(a) < rank(b);
  });
  write_array(
      "exits", exits,
      [&](const Entry& e) { write_exit(e.first, e.second, catalog, out, event_percentiles); }, out);
}

}  // namespace kvmscope::report
