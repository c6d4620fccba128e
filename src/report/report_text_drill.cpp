// Drill-down tables in the style of the exit tables: value, what qualifies it, count, share,
// and the handling time of the exits the accesses happened in.
#include <sstream>

#include "report/format.h"
#include "report/percentiles.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report::text {

namespace {

std::vector<std::string> drill_cells(std::string value, std::string detail,
                                     const model::ExitStats& stats, std::uint64_t total,
                                     bool event_percentiles) {
  std::vector<std::string> cells = {std::move(value), std::move(detail), format_count(stats.count),
                                    format_percent(stats.count, total)};
  if (stats.timed == 0) {
    cells.insert(cells.end(), event_percentiles ? 7 : 5, "-");
  } else if (event_percentiles) {
    for (std::uint64_t ns : {stats.time_ns, stats.avg_ns()})
      cells.push_back(format_duration_ns(ns));
    for (std::uint64_t ns : percentile_values(stats))
      cells.push_back(has_distribution(stats) ? format_duration_ns(ns) : "-");
  } else {
    for (std::uint64_t ns :
         {stats.time_ns, stats.avg_ns(), stats.p50_ns(), stats.p99_ns(), stats.max_ns})
      cells.push_back(format_duration_ns(ns));
  }
  return cells;
}

std::string drill_section(const model::DrillDown& drill, const model::Snapshot& names,
                          model::DrillKind kind, const ReportOptions& options) {
  const auto tables = model::drill_tables(drill, kind, options.drilldowns_per_vm);
  if (tables.empty()) return drill_title(kind) + ": none recorded.\n";
  using Align = TextTable::Align;
  std::vector<TextTable::Align> aligns(options.event_percentiles ? 11 : 9, Align::right);
  aligns[0] = aligns[1] = Align::left;
  TextTable table(aligns);
  table.add_text(drill_title(kind) + "; time: of the exit each happened in");
  bool first = true;
  for (const model::DrillTable& t : tables) {
    if (t.vm_pid) {
      if (!first) table.add_text("");
      table.add_text(vm_label(names, *t.vm_pid));
    }
    first = false;
    std::vector<std::string> headers = {
        drill_value_header(kind), "access", "count", "%", "time", "avg"};
    if (options.event_percentiles) {
      headers.insert(headers.end(), kPercentileHeaders.begin(), kPercentileHeaders.end());
    } else {
      headers.insert(headers.end(), {"p50", "p99", "max"});
    }
    table.add_row(headers);
    std::size_t shown = 0;
    for (const model::DrillRow& row : t.rows) {
      if (shown == options.max_rows) break;
      table.add_row(drill_cells(drill_value_text(row.key), drill_detail_text(row.key), row.stats,
                                t.total.count, options.event_percentiles));
      ++shown;
    }
    if (shown < t.rows.size())
      table.add_text("... " + format_count(t.rows.size() - shown) +
                     " more rows (all of them in --csv and --json)");
    table.add_row(drill_cells("total", "", t.total, t.total.count, options.event_percentiles));
  }
  std::ostringstream out;
  table.write(out);
  if (kind == model::DrillKind::mmio)
    out << "A read the VMM completes is traced twice: unsatisfied-read, then read.\n";
  return out.str();
}

}  // namespace

std::vector<std::string> drill_sections(const model::DrillDown& drill, const model::Snapshot& names,
                                        const ReportOptions& options) {
  std::vector<std::string> blocks;
  for (model::DrillKind kind : options.drilldowns)
    blocks.push_back(drill_section(drill, names, kind, options));
  return blocks;
}

}  // namespace kvmscope::report::text

namespace kvmscope::report {

void render_drilldowns_text(const model::DrillDown& drill, const model::Snapshot& names,
                            const ReportOptions& options, std::ostream& out) {
  bool first = true;
  for (const std::string& block : text::drill_sections(drill, names, options)) {
    if (!first) out << '\n';
    out << block;
    first = false;
  }
}

}  // namespace kvmscope::report
