// The human table: a header line, one section per level, notes for what is missing, the
// percentile caveat, and collector health warnings.
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "report/format.h"
#include "report/percentiles.h"
#include "report/render.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "report/report_kernel_log.h"
#include "report/snapshot_notes.h"

namespace kvmscope::report {

namespace {

using model::Level;
using model::NameSource;

std::string duration_of(const model::Snapshot& snapshot) {
  return format_duration_ns(
      snapshot.taken_ns > snapshot.started_ns ? snapshot.taken_ns - snapshot.started_ns : 0);
}

const char* source_text(NameSource source) {
  return source == NameSource::kernel ? "the running kernel" : "the built-in table";
}

// Where the names in a section came from. The hardware section normally holds one isa; should
// it hold several whose names came from different places, each is attributed.
std::string names_phrase(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                         Level level) {
  std::set<model::Isa> isas;
  for (const auto& [key, stats] : snapshot.exits)
    if (key.reason.level == level && stats.count > 0) isas.insert(key.reason.isa);
  std::set<NameSource> sources;
  for (model::Isa isa : isas) sources.insert(catalog.source(level, isa));
  if (sources.size() == 1) return std::string("names from ") + source_text(*sources.begin());

  std::string phrase = "names from ";
  bool first_source = true;
  for (NameSource source : sources) {
    if (!first_source) phrase += " and ";
    first_source = false;
    phrase += source_text(source);
    std::string list;
    for (model::Isa isa : isas) {
      if (catalog.source(level, isa) != source) continue;
      if (!list.empty()) list += ", ";
      list += model::isa_name(isa);
    }
    phrase += " (" + list + ")";
  }
  return phrase;
}

std::string section_title(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                          Level level) {
  if (level == Level::hardware)
    return "Hardware exits (kvm:kvm_exit), " + names_phrase(snapshot, catalog, level) +
           "; time: from the exit to the next VM entry";
  return "Exits to the VMM (kvm:kvm_userspace_exit), " + names_phrase(snapshot, catalog, level) +
         "; time: spent in the VMM, from the exit to the next KVM_RUN";
}

std::string group_label(const model::SummaryGroup& group, const model::Snapshot& snapshot) {
  std::string label = "VM " + std::to_string(*group.vm_pid);
  const auto vm = snapshot.vms.find(*group.vm_pid);
  if (vm != snapshot.vms.end() && !vm->second.name.empty())
    label += " (" + printable(vm->second.name) + ")";
  if (group.vcpu) {
    label += " vCPU ";
    label += *group.vcpu == model::kUnknownVcpu ? "?" : std::to_string(*group.vcpu);
  }
  return label;
}

std::vector<std::string> stats_cells(std::string reason, std::string code,
                                     const model::ExitStats& stats, std::uint64_t group_count,
                                     double seconds, bool event_percentiles) {
  // Times summed elsewhere (a kernel log's cycles) come without a distribution: no p50, p99,
  // max rather than zeros.
  const bool distribution = event_percentiles ? has_distribution(stats) : stats.hist.total() > 0;
  std::vector<std::string> cells = {std::move(reason), std::move(code), format_count(stats.count),
                                    format_percent(stats.count, group_count),
                                    format_rate(stats.count, seconds)};
  const std::size_t spread = event_percentiles ? kPercentileHeaders.size() : 3;
  if (stats.timed == 0) {
    cells.insert(cells.end(), 2 + spread, "-");  // no handling time measured: nothing to show
    return cells;
  }
  for (std::uint64_t ns : {stats.time_ns, stats.avg_ns()}) cells.push_back(format_duration_ns(ns));
  if (event_percentiles) {
    for (std::uint64_t ns : percentile_values(stats))
      cells.push_back(distribution ? format_duration_ns(ns) : "-");
  } else {
    for (std::uint64_t ns : {stats.p50_ns(), stats.p99_ns(), stats.max_ns})
      cells.push_back(distribution ? format_duration_ns(ns) : "-");
  }
  return cells;
}

// One level's section: title, then per group an optional VM/vCPU line, column headers, rows
// and a totals line. One TextTable for all groups, so they line up with each other.
std::string section(const std::vector<model::SummaryGroup>& groups, Level level,
                    const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                    const ReportOptions& options) {
  // A kernel log's counts run since each VM started, which the log does not say: no rates.
  const double seconds = options.kernel_log ? 0.0 : snapshot.seconds();  // 0: rates print "-"
  using Align = TextTable::Align;
  std::vector<TextTable::Align> aligns(options.event_percentiles ? 12 : 10, Align::right);
  aligns[0] = Align::left;
  TextTable table(aligns);
  table.add_text(level == Level::hardware && options.kernel_log
                     ? kernel_log_table_title(*options.kernel_log)
                     : section_title(snapshot, catalog, level));
  bool first = true;
  for (const model::SummaryGroup& group : groups) {
    if (group.level != level) continue;
    if (group.vm_pid) {
      if (!first) table.add_text("");
      table.add_text(group_label(group, snapshot));
    }
    first = false;
    std::vector<std::string> headers = {"reason", "code", "count", "%", "rate/s", "time", "avg"};
    if (options.event_percentiles) {
      headers.insert(headers.end(), kPercentileHeaders.begin(), kPercentileHeaders.end());
    } else {
      headers.insert(headers.end(), {"p50", "p99", "max"});
    }
    table.add_row(headers);
    for (const model::SummaryRow& row : group.rows)
      table.add_row(stats_cells(catalog.name(row.reason), catalog.code_text(row.reason), row.stats,
                                group.total.count, seconds, options.event_percentiles));
    table.add_row(stats_cells("total", "", group.total, group.total.count, seconds,
                              options.event_percentiles));
  }
  std::ostringstream out;
  table.write(out);
  return out.str();
}

bool any_timed(const model::Snapshot& snapshot) {
  for (const auto& [key, stats] : snapshot.exits)
    if (stats.count > 0 && stats.timed > 0) return true;
  return false;
}

bool any_distribution(const model::Snapshot& snapshot) {
  for (const auto& [key, stats] : snapshot.exits)
    if (stats.hist.total() > 0) return true;
  return false;
}

}  // namespace

void render_table(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                  const ReportOptions& options, std::ostream& out) {
  const std::uint64_t hardware = snapshot.total(Level::hardware);
  const std::uint64_t vmm = snapshot.total(Level::vmm);

  // Blocks of lines, printed with one blank line between them.
  std::vector<std::string> blocks;
  std::string header = "kvmscope stat";
  if (!options.target.empty()) header += ": " + printable(options.target);
  header += "   " + duration_of(snapshot) + "   hardware exits: " + format_count(hardware) +
            "   exits to the VMM: " + format_count(vmm) + "\n";
  blocks.push_back(header);

  for (const std::string& note : coverage_notes(snapshot, options.target))
    blocks.push_back(note + "\n");

  if (hardware > 0 || vmm > 0) {
    const auto groups = model::summarize(snapshot, options.breakdown);
    if (hardware > 0)
      blocks.push_back(section(groups, Level::hardware, snapshot, catalog, options));
    if (vmm > 0) {
      blocks.push_back(section(groups, Level::vmm, snapshot, catalog, options));
    } else if (!options.kernel_log) {  // a kernel log has no exits-to-the-VMM level
      blocks.push_back("No exits to the VMM (kvm:kvm_userspace_exit) were seen.\n");
    }
    if (!options.event_percentiles && any_timed(snapshot) && any_distribution(snapshot))
      blocks.push_back(
          "p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the "
          "percentile, within 6.25 % of the true value.\n");
  }

  if (options.drill) {
    std::ostringstream drill;
    render_drilldowns_text(*options.drill, snapshot, options, drill);
    if (!drill.str().empty()) blocks.push_back(drill.str());
  }
  if (options.guest_code)
    blocks.push_back(guest_code_text(*options.guest_code, snapshot, catalog, options.max_rows));

  std::string warnings;
  for (const std::string& warning : health_warnings(snapshot.health))
    warnings += "warning: " + warning + "\n";
  for (const std::string& note : options.notes) warnings += "note: " + note + "\n";
  if (!warnings.empty()) blocks.push_back(warnings);

  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i > 0) out << '\n';
    out << blocks[i];
  }
}

}  // namespace kvmscope::report
