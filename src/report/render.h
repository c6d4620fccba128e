// Renderers from the model to a stream. Pure functions of their inputs: the same snapshot
// always renders to the same bytes, so they are tested against golden text.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "model/drilldown.h"
#include "model/reason_catalog.h"
#include "model/snapshot.h"
#include "model/summary.h"
#include "report/options.h"

namespace kvmscope::report {

// Human table: one section per level (hardware exits, then exits to the VMM), each optionally
// split per VM / vCPU; columns: reason, code, count, %, rate/s, total/avg/p50/p99/max handling
// time. When no hardware exit was seen but VMM exits were, says so plainly. Collector health
// problems (anything not stored or lost) are printed as warnings, never hidden.
void render_table(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                  const ReportOptions& options, std::ostream& out);

// One JSON document (schema: docs/json-schema.md).
void render_json(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                 const ReportOptions& options, std::ostream& out);

// The kernel-patch style block printed each time the cumulative exit count crosses a multiple
// of N: a header line with the total and a timestamp, then one line per non-zero reason in
// code order, e.g. "kvm exit 30 (IO_INSTRUCTION): 1419909" or "kvm exit 0x7b (io): 1000".
void render_every_n(std::uint64_t total, double seconds_since_start,
                    const std::map<model::Reason, std::uint64_t>& cumulative,
                    const model::ReasonCatalog& catalog, std::ostream& out);

}  // namespace kvmscope::report
