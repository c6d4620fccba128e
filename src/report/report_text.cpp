// The text report: a header about the recording, its warnings, the same exit tables `stat`
// prints, then the sections only a recording can give, one blank line between blocks.
#include <sstream>

#include "report/format.h"
#include "report/percentiles.h"
#include "report/recording_notes.h"
#include "report/render.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "report/report_kernel_log.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report {

namespace {

std::string header(const model::RecordingAnalysisResult& analysis, const ReportOptions& options) {
  const model::Snapshot& s = analysis.snapshot;
  const RecordingMeta& rec = options.recording;
  std::string text = "kvmscope report";
  if (!options.target.empty()) text += ": " + printable(options.target);
  text += "   " + format_duration_ns(s.taken_ns - s.started_ns) +
          "   hardware exits: " + format_count(s.total(model::Level::hardware)) +
          "   exits to the VMM: " + format_count(s.total(model::Level::vmm)) + "\n";
  std::string where;
  if (!rec.hostname.empty()) where += "recorded on " + printable(rec.hostname);
  if (!rec.kernel.empty())
    where += (where.empty() ? "kernel " : ", kernel ") + printable(rec.kernel);
  if (rec.realtime_offset_ns)
    where += (where.empty() ? "started " : ", started ") +
             utc_text(s.started_ns, *rec.realtime_offset_ns);
  if (!where.empty()) text += where + "\n";
  if (const std::string p = percentile_text(percentile_info(analysis)); !p.empty())
    text += p + "\n";
  if (!rec.markers.empty()) {
    text += "markers:";
    for (std::size_t i = 0; i < rec.markers.size(); ++i)
      text += (i ? "; " : " ") + seconds_text(text::since_start(analysis, rec.markers[i].ts_ns)) +
              " " + printable(rec.markers[i].label);
    text += "\n";
  }
  for (const std::string& warning : report_warnings(analysis, options)) text += warning + "\n";
  return text;
}

// The stat table without its own header line (the report has its own) and without the
// thread-table warning, which report_warnings words for a recording.
std::string exit_tables(const model::RecordingAnalysisResult& analysis,
                        const model::ReasonCatalog& catalog, const ReportOptions& options) {
  model::Snapshot snapshot = analysis.snapshot;
  snapshot.health = {};
  std::ostringstream out;
  ReportOptions tables = options;
  tables.notes.clear();  // the report prints its notes once, at its end
  tables.drill = nullptr;
  // A kernel log has no distribution: its table keeps stat's columns (all "-").
  tables.event_percentiles = !options.kernel_log;
  render_table(snapshot, catalog, tables, out);
  const std::string table = out.str();
  const std::size_t body = table.find("\n\n");
  return body == std::string::npos ? std::string() : table.substr(body + 2);
}

// The non-empty blocks, one blank line apart.
void write_blocks(const std::vector<std::string>& blocks, std::ostream& out) {
  bool first = true;
  for (const std::string& block : blocks) {
    if (block.empty()) continue;
    if (!first) out << '\n';
    out << block;
    first = false;
  }
}

}  // namespace

void render_report_text(const model::RecordingAnalysisResult& analysis,
                        const model::ReasonCatalog& catalog, const ReportOptions& given,
                        std::ostream& out) {
  const ReportOptions options = report_options(given);
  if (options.kernel_log) {
    // A kernel log has cumulative counts per report: no events, so no stability, bursts,
    // boots or drill-downs; its own per-VM reports instead.
    std::vector<std::string> blocks = {kernel_log_header(*options.kernel_log, analysis.snapshot,
                                                         report_warnings(analysis, options)),
                                       exit_tables(analysis, catalog, options),
                                       text::timeline_section(analysis, catalog)};
    for (std::string& block : kernel_log_sections(*options.kernel_log, catalog))
      blocks.push_back(block);
    write_blocks(blocks, out);
    return;
  }
  std::vector<std::string> blocks = {
      header(analysis, options), exit_tables(analysis, catalog, options),
      text::timeline_section(analysis, catalog), text::stability_section(analysis, catalog),
      text::bursts_section(analysis, catalog)};
  for (std::string& block : text::boot_sections(analysis, catalog)) blocks.push_back(block);
  for (std::string& block : text::drill_sections(analysis.drill, analysis.snapshot, options))
    blocks.push_back(block);
  if (options.guest_code)
    blocks.push_back(
        guest_code_text(*options.guest_code, analysis.snapshot, catalog, options.max_rows));
  write_blocks(blocks, out);
}

}  // namespace kvmscope::report
