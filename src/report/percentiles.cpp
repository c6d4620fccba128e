#include "report/percentiles.h"

#include <algorithm>
#include <map>

#include "report/format.h"

namespace kvmscope::report {

using model::QuantileSketch;

ReportOptions report_options(const ReportOptions& given) {
  ReportOptions options = given;
  options.event_percentiles = true;
  return options;
}

PercentileInfo percentile_info(const model::RecordingAnalysisResult& analysis) {
  PercentileInfo info;
  std::map<model::Level, std::uint64_t> per_level;
  std::map<model::DrillKind, std::uint64_t> per_kind;
  bool any = false;
  for (const auto& [key, stats] : analysis.snapshot.exits) {
    per_level[key.reason.level] += stats.sketch.count();
    any = any || !stats.sketch.empty();
    info.collapsed = info.collapsed || stats.sketch.collapsed();
  }
  for (const auto& [key, stats] : analysis.drill.entries()) {
    per_kind[key.kind] += stats.sketch.count();
    any = any || !stats.sketch.empty();
    info.collapsed = info.collapsed || stats.sketch.collapsed();
  }
  if (!any) return info;
  std::uint64_t most = 0;
  for (const auto& [level, n] : per_level) most = std::max(most, n);
  for (const auto& [kind, n] : per_kind) most = std::max(most, n);
  info.method =
      most <= QuantileSketch::kExactCapacity ? PercentileMethod::exact : PercentileMethod::sketch;
  return info;
}

std::string percentile_text(const PercentileInfo& info) {
  switch (info.method) {
    case PercentileMethod::none:
      return "";
    case PercentileMethod::exact:
      return "percentiles: exact (p50, p90, p99, p99.9: nearest rank over every measured "
             "handling time)";
    case PercentileMethod::sketch:
      break;
  }
  std::string text =
      "percentiles: DDSketch, \u22641% relative error (p50, p90, p99, p99.9; exact "
      "in rows of up to " +
      format_count(QuantileSketch::kExactCapacity) + " timed exits; max exact)";
  if (info.collapsed)
    text += "; a row spanned more than " + format_count(QuantileSketch::kMaxBuckets) +
            " buckets: its values more than ~8.9 decades below its max read high";
  return text;
}

const char* percentile_method_key(PercentileMethod method) {
  switch (method) {
    case PercentileMethod::exact:
      return "exact";
    case PercentileMethod::sketch:
      return "ddsketch";
    case PercentileMethod::none:
      break;
  }
  return "none";
}

std::array<std::uint64_t, 5> percentile_values(const model::ExitStats& stats) {
  const model::Percentiles p = model::report_percentiles(stats.sketch);
  return {p.p50, p.p90, p.p99, p.p999, stats.max_ns};
}

const std::vector<double>& cdf_quantiles() {
  static const std::vector<double> qs = [] {
    std::vector<double> q;
    q.reserve(103);
    for (int k = 0; k < 100; ++k) q.push_back(k / 100.0);
    for (double t : {0.999, 0.9999, 1.0}) q.push_back(t);
    return q;
  }();
  return qs;
}

}  // namespace kvmscope::report
