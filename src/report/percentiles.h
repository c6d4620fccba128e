// How `report` gets its handling-time percentiles (p50, p90, p99, p99.9, max), said the same way
// in the text header, the JSON document and the HTML page, and the values each row prints.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "model/exit_stats.h"
#include "model/recording_analysis.h"
#include "report/options.h"

namespace kvmscope::report {

enum class PercentileMethod {
  none,    // no distribution (report --dmesg: the kernel log sums times) or nothing timed
  exact,   // every row kept its values: nearest rank over them
  sketch,  // some row has more than QuantileSketch::kExactCapacity: DDSketch, <= 1 % error
};

struct PercentileInfo {
  PercentileMethod method = PercentileMethod::none;
  bool collapsed = false;  // some row's values spanned more than the sketch's buckets
};

// The options a report renders with: `given`, with event_percentiles set (drill-down tables and
// their JSON; the exit tables set it themselves, but for a kernel log, which has no times).
ReportOptions report_options(const ReportOptions& given);

// From the largest group any table can show: all the exits of a level, all the rows of a
// drill-down kind (the rows within them hold fewer values, so "exact" here is exact everywhere).
PercentileInfo percentile_info(const model::RecordingAnalysisResult& analysis);

// "percentiles: exact (...)", "percentiles: DDSketch, ≤1% relative error (...)"; "" for none.
std::string percentile_text(const PercentileInfo& info);
// JSON: "exact", "ddsketch", "none".
const char* percentile_method_key(PercentileMethod method);

// Column headers and values: p50, p90, p99, p99.9 and max, from the row's sketch (max: exact).
inline constexpr std::array<const char*, 5> kPercentileHeaders = {"p50", "p90", "p99", "p99.9",
                                                                  "max"};
std::array<std::uint64_t, 5> percentile_values(const model::ExitStats& stats);
// The row has a distribution to print (false: times summed elsewhere, or none measured).
inline bool has_distribution(const model::ExitStats& stats) {
  return !stats.sketch.empty();
}

// The quantiles of the HTML page's per-reason CDF: 0, 0.01, ..., 0.99, 0.999, 0.9999, 1.
const std::vector<double>& cdf_quantiles();

}  // namespace kvmscope::report
