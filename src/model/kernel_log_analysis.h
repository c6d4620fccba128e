// A parsed kernel log (kernel_log.h) turned into what `kvmscope report` renders: the Snapshot
// the exit tables print (each VM's last report, its final line where there is one), a timeline
// from the successive cumulative reports, and per VM the reports with the exits between them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/kernel_log.h"
#include "model/reason_catalog.h"
#include "model/recording_analysis.h"

namespace kvmscope::model {

// One report of one VM, with what happened since the one before.
struct LogInterval {
  std::size_t line = 0;
  std::optional<std::uint64_t> seq;  // none: the course format's blocks, or the final line
  bool final = false;
  std::optional<std::uint64_t> t_ns;    // after the report's time 0 (timestamps only)
  std::uint64_t exits = 0;              // cumulative
  std::optional<std::uint64_t> cycles;  // cumulative (patch only)
  std::uint64_t new_exits = 0;          // since the previous report (the first: since VM start)
  std::optional<std::uint64_t> new_cycles;
  std::optional<std::uint64_t> interval_ns;           // from the previous report (timestamps only)
  std::vector<std::pair<Reason, std::uint64_t>> top;  // of new_exits, at most 3
};

struct LogReasonTotal {
  Reason reason;
  std::uint64_t exits = 0;
  std::optional<std::uint64_t> cycles;
};

// One VM instance, summarized.
struct LogVmSummary {
  LogFormat format = LogFormat::patch;
  std::optional<std::uint32_t> pid;
  Isa isa = Isa::vmx;
  unsigned instance = 1;
  std::string restart;
  std::optional<std::uint64_t> tsc_khz;
  bool has_final = false;
  std::optional<std::uint64_t> reports_printed, reports_suppressed;  // the final line's
  std::uint64_t suppressed_lines = 0;  // "<n> reports suppressed" lines, summed
  std::uint64_t exits = 0;             // the last report's (the final line's) total
  std::optional<std::uint64_t> cycles;
  std::vector<LogReasonTotal> reasons;  // of the last report with exit lines, count descending
  std::vector<LogInterval> intervals;
};

struct KernelLogSummary {
  std::string source;  // the file name, "-" for standard input
  std::size_t lines = 0, patch_lines = 0, course_lines = 0;
  bool timestamps = false;  // every report had one: the timeline and intervals have times
  std::vector<LogVmSummary> vms;
  std::vector<std::string> notes;
  std::vector<std::string> warnings;  // lines skipped or cut (KernelLog::warnings)
};

struct KernelLogAnalysis {
  RecordingAnalysisResult analysis;  // snapshot and timeline; no drill-downs, boots, bursts
  ReasonCatalog catalog;             // the built-in names with the patch's over them
  KernelLogSummary summary;
};

// The VM a course-format stream is filed under: the log does not say which it was.
inline constexpr std::uint32_t kCourseVmPid = 0;

KernelLogAnalysis analyze_kernel_log(const KernelLog& log, std::string source,
                                     std::uint64_t bucket_ns = 0);

}  // namespace kvmscope::model
