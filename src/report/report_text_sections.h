// The sections of the text report, each a block of lines (ending in '\n', or empty when the
// section has nothing to say). Internal to src/report/: render_report_text joins them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/reason_catalog.h"
#include "model/recording_analysis.h"
#include "report/report.h"

namespace kvmscope::report::text {

// One sparkline row per frequent reason (and a total per level) over the whole recording.
std::string timeline_section(const model::RecordingAnalysisResult& analysis,
                             const model::ReasonCatalog& catalog);

std::string stability_section(const model::RecordingAnalysisResult& analysis,
                              const model::ReasonCatalog& catalog);

std::string bursts_section(const model::RecordingAnalysisResult& analysis,
                           const model::ReasonCatalog& catalog);

// One block per VM whose boot the recording covers at least in part (started with its command
// or saw its end).
std::vector<std::string> boot_sections(const model::RecordingAnalysisResult& analysis,
                                       const model::ReasonCatalog& catalog);

// One block per drill-down kind asked for; names: the VMs' names for per-VM tables.
std::vector<std::string> drill_sections(const model::DrillDown& drill, const model::Snapshot& names,
                                        const ReportOptions& options);

// "cpuid 60%, io 30%, hlt 10%": reasons with their share of `total`.
std::string top_reasons_text(const std::vector<std::pair<model::Reason, std::uint64_t>>& top,
                             std::uint64_t total, const model::ReasonCatalog& catalog);

// The report's time of an event: ns after time 0 (the snapshot's start), 0 before it.
inline std::uint64_t since_start(const model::RecordingAnalysisResult& a, std::uint64_t ns) {
  return ns > a.snapshot.started_ns ? ns - a.snapshot.started_ns : 0;
}

// "VM 4242 (guest)".
std::string vm_label(const model::Snapshot& snapshot, std::uint32_t pid);

}  // namespace kvmscope::report::text
