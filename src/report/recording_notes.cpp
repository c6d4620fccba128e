#include "report/recording_notes.h"

#include "report/format.h"
#include "report/report_labels.h"

namespace kvmscope::report {

std::string lost_per_cpu_text(const std::vector<std::uint64_t>& lost_per_cpu) {
  std::string text;
  for (std::size_t cpu = 0; cpu < lost_per_cpu.size(); ++cpu) {
    if (lost_per_cpu[cpu] == 0) continue;
    if (!text.empty()) text += ", ";
    text += "CPU " + std::to_string(cpu) + ": " + format_count(lost_per_cpu[cpu]);
  }
  return text;
}

std::uint64_t ring_buffer_lost(const RecordingMeta& rec) {
  std::uint64_t lost = rec.lost_events;
  if (lost == 0)
    for (std::uint64_t n : rec.lost_per_cpu) lost += n;
  return lost;
}

std::uint64_t events_lost(const RecordingMeta& rec) {
  return ring_buffer_lost(rec) + rec.lost_to_damage;
}

namespace {

std::string events_text(std::uint64_t n) {
  return format_count(n) + (n == 1 ? " event" : " events");
}

// What a damaged block of this kind takes with it besides events.
std::string also_missing(const std::string& block_type) {
  if (block_type == "lost") return "; the ring-buffer loss counts in it are missing";
  if (block_type == "vm") return "; the VM names in it are missing";
  if (block_type == "marker") return "; the markers in it are missing";
  return {};
}

std::string damage_line(const model::DamagedRange& d) {
  // Inclusive byte numbers, as a hex dump shows them.
  std::string text = "warning: corrupt: bytes " + std::to_string(d.offset) + "\u2013" +
                     std::to_string(d.end > d.offset ? d.end - 1 : d.offset);
  if (d.block) {
    text += " (block " + std::to_string(*d.block);
    if (!d.block_type.empty() && d.block_type != "events") text += ", " + d.block_type;
    text += ")";
  }
  text += ": ";
  if (!d.events)
    text += "an unknown number of events lost";
  else if (*d.events == 0)
    text += "no events lost";
  else if (d.exact)
    text += events_text(*d.events) + " lost";
  else
    text += "about " + events_text(*d.events) + " lost, estimated from the intact blocks";
  return text + also_missing(d.block_type) + " (" + d.reason + ")";
}

// "--mark 30.0=late" as it could have been given.
std::string unused_mark_line(const model::UnusedMark& u) {
  const std::string mark =
      "warning: --mark " + seconds_number(u.mark.offset_ns) + "=" + printable(u.mark.label);
  switch (u.why) {
    case model::UnusedMark::Why::no_boot:
      return mark + ": no VM boot was recorded, so no phase begins there";
    case model::UnusedMark::Why::after_boots:
      return mark + " is at or after the end of every boot (the longest ends " +
             seconds_text(u.limit_ns) + " after its start): no boot phase begins there";
    case model::UnusedMark::Why::after_recording:
      break;
  }
  return mark + " is at or after the recording's end (" + seconds_text(u.limit_ns) +
         " after the start): no boot phase begins there";
}

}  // namespace

std::vector<std::string> damage_warnings(const RecordingMeta& rec) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < rec.damage.size() && i < kMaxDamageLines; ++i)
    out.push_back(damage_line(rec.damage[i]));
  if (rec.damage.size() > kMaxDamageLines)
    out.push_back("warning: corrupt: " + format_count(rec.damage.size() - kMaxDamageLines) +
                  " more damaged stretches (all of them in --json)");
  if (rec.damage.size() > 1)
    out.push_back("warning: " + format_count(rec.damage.size()) +
                  " damaged stretches skipped: " + (rec.lost_to_damage_exact ? "" : "about ") +
                  events_text(rec.lost_to_damage) + " lost in all");
  if (!rec.damage.empty() && rec.lost_to_damage > 0)
    out.back() += ": counts, times and the timeline miss them";
  return out;
}

std::vector<std::string> report_warnings(const model::RecordingAnalysisResult& analysis,
                                         const ReportOptions& options) {
  std::vector<std::string> out;
  const RecordingMeta& rec = options.recording;
  const std::uint64_t lost = ring_buffer_lost(rec);
  if (lost > 0) {
    std::string text = "warning: " + format_count(lost) +
                       (lost == 1 ? " event was" : " events were") +
                       " lost while recording (ring buffer full)";
    const std::string per_cpu = lost_per_cpu_text(rec.lost_per_cpu);
    if (!per_cpu.empty()) text += " (" + per_cpu + ")";
    text += ": counts, times and the timeline miss them";
    out.push_back(text);
  }
  for (std::string& line : damage_warnings(rec)) out.push_back(std::move(line));
  for (const model::UnusedMark& u : analysis.unused_marks) out.push_back(unused_mark_line(u));
  if (!rec.complete)
    out.push_back(
        "warning: the recording was cut short (it has no trailer): events after its last "
        "complete block are missing");
  const model::StreamFacts& f = analysis.facts;
  if (f.unknown_events > 0)
    out.push_back("note: " + format_count(f.unknown_events) +
                  " events of a type this kvmscope does not know were skipped (recorded by a "
                  "newer version?)");
  if (analysis.snapshot.health.threads_not_stored > 0)
    out.push_back("warning: " + format_count(analysis.snapshot.health.threads_not_stored) +
                  " exits were counted without a handling time (more vCPU threads than the "
                  "analysis keeps)");
  // A kernel log's lines that were skipped: the counts may be short of the truth.
  if (options.kernel_log)
    for (const std::string& w : options.kernel_log->warnings) out.push_back("warning: " + w);
  for (const std::string& note : options.notes) out.push_back("note: " + note);
  return out;
}

}  // namespace kvmscope::report
