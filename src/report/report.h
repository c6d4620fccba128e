// Renderers of `kvmscope report`: a recording's analysis as text, JSON (schema
// kvmscope.report/1, docs/json-schema.md), one CSV per table, or one self-contained HTML page
// with charts. Pure functions of their inputs, like the stat renderers in render.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "model/drilldown.h"
#include "model/kernel_log_analysis.h"
#include "model/reason_catalog.h"
#include "model/recording_analysis.h"
#include "model/recording_damage.h"
#include "model/summary.h"
#include "report/options.h"
#include "report/render.h"
#include "symbols/attribution.h"
#include "util/result.h"

namespace kvmscope::report {

// Terminal text: header, the exit tables `stat` prints, the timeline as one sparkline per
// reason, rate stability, bursts, boot summaries and the drill-downs asked for.
void render_report_text(const model::RecordingAnalysisResult& analysis,
                        const model::ReasonCatalog& catalog, const ReportOptions& options,
                        std::ostream& out);

// One JSON document, schema "kvmscope.report/1".
void render_report_json(const model::RecordingAnalysisResult& analysis,
                        const model::ReasonCatalog& catalog, const ReportOptions& options,
                        std::ostream& out);

// One CSV file per table into dir (created if missing; the directory above it must exist, it
// is not created): exits.csv, timeline.csv,
// stability.csv, bursts.csv, boot.csv and drill_<kind>.csv per drill-down asked for. Each has a
// header row; RFC 4180 quoting.
util::Result<void> write_report_csv(const std::string& dir,
                                    const model::RecordingAnalysisResult& analysis,
                                    const model::ReasonCatalog& catalog,
                                    const ReportOptions& options);

// One self-contained HTML page (Chart.js embedded, no network at view time): the tables, the
// timeline as stacked exit rates, handling-time distributions, drill-down bars. The report's
// JSON document is embedded as the charts' data.
void render_report_html(const model::RecordingAnalysisResult& analysis,
                        const model::ReasonCatalog& catalog, const ReportOptions& options,
                        std::ostream& out);

// The drill-down tables alone, for `kvmscope stat --by` (filled from BPF maps): the text
// blocks the report prints (names: the VMs' names for per-VM tables), and the JSON array the
// report's `drilldowns` field holds (written as a value: `[...]`, no field name).
void render_drilldowns_text(const model::DrillDown& drill, const model::Snapshot& names,
                            const ReportOptions& options, std::ostream& out);
void write_drilldowns_json(const model::DrillDown& drill, const ReportOptions& options,
                           std::ostream& out);

}  // namespace kvmscope::report
