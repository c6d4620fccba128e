// The JSON pieces kvmscope.stat/1 and kvmscope.report/1 share, so the two schemas' common
// fields (names, totals, vms, exits) stay identical by construction.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "model/reason_catalog.h"
#include "model/snapshot.h"

namespace kvmscope::report {

const char* source_name(model::NameSource source);  // "kernel" / "builtin"

// `"level": "hardware", "isa": "svm", "code": 114, "code_text": "0x72", "reason": "cpuid"`
void write_reason(const model::Reason& r, const model::ReasonCatalog& catalog, std::ostream& out);
// `"count": .., "timed": .., "time_ns": .., "avg_ns": .., "p50_ns": .., "p99_ns": .., "max_ns": ..`
// event_percentiles (report): `"p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"` from the
// row's own handling times; else (stat) p50/p99 are log2 bucket bounds.
void write_times(const model::ExitStats& s, std::ostream& out, bool event_percentiles = false);
void write_hist(const model::Histogram& h, std::ostream& out);  // `"hist_log2_ns": [..]`
void write_exit(const model::ExitKey& key, const model::ExitStats& stats,
                const model::ReasonCatalog& catalog, std::ostream& out,
                bool event_percentiles = false);

// `  "names": {...},` and `  "totals": {...},` lines.
void write_names_and_totals(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                            std::ostream& out);
// `  "vms": [...],` and `  "exits": [...]` (no comma after exits): the finest grain, ordered by
// level, VM, vCPU (unknown last), count descending, reason.
void write_vms_and_exits(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                         std::ostream& out, bool event_percentiles = false);

// Writes `"name": [` items `]` with one item per line, indented by `indent` spaces.
template <class Items, class WriteItem>
void write_array(std::string_view name, const Items& items, WriteItem write_item, std::ostream& out,
                 int indent = 2) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  out << pad << "\"" << name << "\": [";
  bool first = true;
  for (const auto& item : items) {
    out << (first ? "\n" : ",\n") << pad << "  ";
    write_item(item);
    first = false;
  }
  out << (first ? "]" : "\n" + pad + "]");
}

}  // namespace kvmscope::report
