#include "report/report_notes.h"

#include "report/format.h"

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

std::vector<std::string> report_warnings(const model::RecordingAnalysisResult& analysis,
                                         const ReportOptions& options) {
  std::vector<std::string> out;
  const RecordingMeta& rec = options.recording;
  std::uint64_t lost = rec.lost_events;
  if (lost == 0)
    for (std::uint64_t n : rec.lost_per_cpu) lost += n;
  if (lost > 0) {
    std::string text = "warning: " + format_count(lost) +
                       (lost == 1 ? " event was" : " events were") +
                       " lost while recording (ring buffer full)";
    const std::string per_cpu = lost_per_cpu_text(rec.lost_per_cpu);
    if (!per_cpu.empty()) text += " (" + per_cpu + ")";
    text += ": counts, times and the timeline miss them";
    out.push_back(text);
  }
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
