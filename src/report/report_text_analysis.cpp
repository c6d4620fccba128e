// Text sections derived from the timeline and the boots: rate stability, bursts, boot phases.
#include <algorithm>
#include <sstream>

#include "report/format.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report::text {

namespace {

using model::Level;
using Align = TextTable::Align;

std::string level_exits(Level level) {
  return level == Level::hardware ? "hardware exits" : "exits to the VMM";
}

std::string written(const TextTable& table) {
  std::ostringstream out;
  table.write(out);
  return out.str();
}

}  // namespace

std::string top_reasons_text(const std::vector<std::pair<model::Reason, std::uint64_t>>& top,
                             std::uint64_t total, const model::ReasonCatalog& catalog) {
  std::string text;
  for (const auto& [reason, count] : top) {
    if (!text.empty()) text += ", ";
    text += printable(catalog.name(reason)) + " " + format_percent(count, total);
  }
  return text;
}

std::string vm_label(const model::Snapshot& snapshot, std::uint32_t pid) {
  std::string label = "VM " + std::to_string(pid);
  const auto vm = snapshot.vms.find(pid);
  if (vm != snapshot.vms.end() && !vm->second.name.empty())
    label += " (" + printable(vm->second.name) + ")";
  return label;
}

std::string stability_section(const model::RecordingAnalysisResult& analysis,
                              const model::ReasonCatalog& catalog) {
  const auto& t = analysis.timeline;
  const auto span = model::active_span(t);
  if (!span || analysis.stability.empty()) return {};
  TextTable table({Align::left, Align::right, Align::right, Align::right, Align::right,
                   Align::right, Align::right});
  table.add_text("Rate stability over the active span, " + seconds_text(span->first * t.bucket_ns) +
                 " to " + seconds_text((span->last + 1) * t.bucket_ns) + " (" +
                 format_count(span->buckets()) + " buckets of " + format_duration_ns(t.bucket_ns) +
                 "): mean and standard deviation of the per-bucket rate, CV = stddev / mean");
  std::optional<Level> level;
  for (const model::RateStability& r : analysis.stability) {
    if (level != r.reason.level) {
      level = r.reason.level;
      table.add_text(level == Level::hardware ? "Hardware exits" : "Exits to the VMM");
      table.add_row({"reason", "code", "exits", "mean/s", "stddev/s", "CV", "peak/s"});
    }
    table.add_row({printable(catalog.name(r.reason)), catalog.code_text(r.reason),
                   format_count(r.exits), format_decimal(r.mean_per_s),
                   format_decimal(r.stddev_per_s), format_ratio(r.cv),
                   format_decimal(r.peak_per_s)});
  }
  return written(table);
}

std::string bursts_section(const model::RecordingAnalysisResult& analysis,
                           const model::ReasonCatalog& catalog) {
  const model::BurstReport& b = analysis.bursts;
  if (analysis.timeline.buckets() == 0) return {};
  const std::string rule = "buckets of " + format_duration_ns(analysis.timeline.bucket_ns) +
                           " with more than " + number_text(b.rule.factor) + "x the median (" +
                           format_decimal(b.median_exits) + ") " + level_exits(b.level) +
                           " and at least " + format_count(b.rule.min_exits) + " (threshold " +
                           format_count(b.threshold_exits) + ")";
  if (b.found == 0) return "Bursts: none, no " + rule + ".\n";
  TextTable table({Align::right, Align::right, Align::right, Align::right, Align::left});
  std::string title = "Bursts: " + rule + "; adjacent ones joined: " + format_count(b.found) +
                      (b.found == 1 ? " burst" : " bursts");
  if (b.bursts.size() < b.found)
    title += ", the " + format_count(b.bursts.size()) + " largest listed";
  table.add_text(title);
  table.add_row({"start", "duration", "exits", "peak/s", "top reasons"});
  for (const model::Burst& burst : b.bursts)
    table.add_row({seconds_text(since_start(analysis, burst.start_ns)),
                   format_duration_ns(burst.duration_ns), format_count(burst.exits),
                   format_decimal(burst.peak_per_s),
                   top_reasons_text(burst.top, burst.exits, catalog)});
  return written(table);
}

std::vector<std::string> boot_sections(const model::RecordingAnalysisResult& analysis,
                                       const model::ReasonCatalog& catalog) {
  std::vector<std::string> blocks;
  for (const model::BootSummary& boot : analysis.boots) {
    if (!boot.start_seen() && boot.end_by == model::BootEnd::none)
      continue;  // neither end of the boot was recorded: nothing to say about a boot
    TextTable table({Align::left, Align::right, Align::right, Align::right, Align::right,
                     Align::right, Align::right, Align::left});
    table.add_text("Boot of " + vm_label(analysis.snapshot, boot.vm_pid) + ": " +
                   format_duration_ns(boot.end_ns - boot.start_ns) + " from " +
                   boot_start_text(boot.start_from) + " (" +
                   seconds_text(since_start(analysis, boot.start_ns)) + ") to " +
                   boot_end_text(boot.end_by) + " (" +
                   seconds_text(since_start(analysis, boot.end_ns)) + ")");
    std::string facts = "first exit ";
    facts += boot.first_exit_ns ? format_duration_ns(boot.first_exit_ns > boot.start_ns
                                                         ? *boot.first_exit_ns - boot.start_ns
                                                         : 0) +
                                      " after the start"
                                : std::string("never seen");
    facts += "; hardware exits: " + format_count(boot.hardware_exits) +
             "; exits to the VMM: " + format_count(boot.vmm_exits);
    table.add_text(facts);
    if (!boot.complete())
      table.add_text(boot.start_seen()
                         ? "not the whole boot: the recording ended before the VM did"
                         : "not the whole boot: the recording began after the VM started");
    // Rates and top reasons of one level, as for bursts: hardware where there are any.
    const Level level = boot.hardware_exits > 0 ? Level::hardware : Level::vmm;
    table.add_row({"phase", "start", "end", "duration", "hw exits", "vmm exits",
                   level == Level::hardware ? "hw exits/s" : "vmm exits/s", "top reasons"});
    for (const model::BootPhase& p : boot.phases) {
      const std::uint64_t n = level == Level::hardware ? p.hardware_exits : p.vmm_exits;
      table.add_row({printable(p.label), seconds_text(since_start(analysis, p.begin_ns)),
                     seconds_text(since_start(analysis, p.end_ns)),
                     format_duration_ns(p.end_ns - p.begin_ns), format_count(p.hardware_exits),
                     format_count(p.vmm_exits),
                     format_rate(n, static_cast<double>(p.end_ns - p.begin_ns) / 1e9),
                     top_reasons_text(model::top_reasons(p, level, 3), n, catalog)});
    }
    blocks.push_back(written(table));
  }
  return blocks;
}

}  // namespace kvmscope::report::text
