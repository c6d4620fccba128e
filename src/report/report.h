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
#include "report/render.h"
#include "symbols/attribution.h"
#include "util/result.h"

namespace kvmscope::report {

// What the recording says about itself (its header and trailer), shown with the results.
struct RecordingMeta {
  std::string target;  // "command: qemu-system-x86_64 ...", "pid 4242", "all VMs"
  std::string kernel;  // uname -r of the recording host
  std::string hostname;
  std::string kvmscope_version;
  // CLOCK_REALTIME - CLOCK_MONOTONIC of the recording host: prints the start as UTC.
  std::optional<std::int64_t> realtime_offset_ns;
  std::uint64_t lost_events = 0;            // events the ring buffer could not take, in all
  std::vector<std::uint64_t> lost_per_cpu;  // the same per CPU, when the recording kept it
  bool complete = true;  // false: the file was cut short (no trailer): the end is missing
  // Damaged stretches of the file, skipped, and the events they cost in all (exact where the
  // trailer or the blocks' own headers say, else estimated).
  std::vector<model::DamagedRange> damage;
  std::uint64_t lost_to_damage = 0;
  bool lost_to_damage_exact = true;
  std::vector<model::Marker> markers;  // listed with their time
};

struct ReportOptions {
  model::Breakdown breakdown = model::Breakdown::none;  // of the exit tables
  // The drill-downs to render (`--by port,mmio`), in this order; a kind without events renders
  // as one line saying so. Empty: none.
  std::vector<model::DrillKind> drilldowns;
  bool drilldowns_per_vm = false;  // one table per VM instead of one for all
  std::size_t max_rows = 20;       // text only: rows per drill-down table (CSV/JSON keep all)
  RecordingMeta recording;
  std::vector<std::string> notes;  // printed as "note: ..." (e.g. names not from this kernel)
  // report --dmesg: the analysis was made from a kernel log's cumulative reports, not from a
  // recording; the renderers say so and add the per-VM reports (JSON: "kernel_log").
  const model::KernelLogSummary* kernel_log = nullptr;
  // report --guest-symbols / --guest-kernel / --by function: the exits attributed to guest
  // functions (report_guest_code.h); nullptr: not asked for.
  const symbols::Attribution* guest_code = nullptr;
};

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

// The ReportOptions that render stat's drill-downs (kinds, split per VM with the exit tables).
ReportOptions drill_options(const RenderOptions& options);

}  // namespace kvmscope::report
