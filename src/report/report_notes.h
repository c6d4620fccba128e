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

}  // namespace kvmscope::report
