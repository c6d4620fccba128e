// The sentences that go with a report, shared by the text, JSON and HTML outputs: what the
// recording lost or lacks, what the analysis skipped, and the stat notes on exit coverage.
#pragma once

#include <string>
#include <vector>

#include "model/recording_analysis.h"
#include "report/report.h"

namespace kvmscope::report {

// Each starts "warning: " (the numbers are short of the truth) or "note: ".
std::vector<std::string> report_warnings(const model::RecordingAnalysisResult& analysis,
                                         const ReportOptions& options);

// "CPU 0: 10, CPU 3: 2" for the CPUs that lost events; empty when none is known.
std::string lost_per_cpu_text(const std::vector<std::uint64_t>& lost_per_cpu);

// Events the ring buffer could not take (lost_events, else the per-CPU counts added up).
std::uint64_t ring_buffer_lost(const RecordingMeta& rec);
// Every event the report misses: the ring buffer's losses and the damaged blocks'.
std::uint64_t events_lost(const RecordingMeta& rec);

// One "warning: corrupt: bytes A–B (block N): ..." line per damaged stretch (at most
// kMaxDamageLines, then one saying how many more), and one with the total where there are
// several.
inline constexpr std::size_t kMaxDamageLines = 10;
std::vector<std::string> damage_warnings(const RecordingMeta& rec);

}  // namespace kvmscope::report
