#include "model/stability.h"

#include <algorithm>
#include <cmath>

namespace kvmscope::model {

namespace {

double per_second(std::uint64_t count, std::uint64_t bucket_ns) {
  return bucket_ns ? static_cast<double>(count) * 1e9 / static_cast<double>(bucket_ns) : 0.0;
}

}  // namespace

std::optional<ActiveSpan> active_span(const Timeline& timeline) {
  std::optional<ActiveSpan> span;
  for (std::size_t b = 0; b < timeline.buckets(); ++b) {
    bool any = false;
    for (const auto& series : timeline.counts) any = any || series[b] > 0;
    if (!any) continue;
    if (!span) span = ActiveSpan{b, b};
    span->last = b;
  }
  return span;
}

std::vector<RateStability> rate_stability(const Timeline& timeline) {
  std::vector<RateStability> out;
  const auto span = active_span(timeline);
  if (!span) return out;
  const double n = static_cast<double>(span->buckets());
  for (std::size_t s = 0; s < timeline.reasons.size(); ++s) {
    const auto& series = timeline.counts[s];
    RateStability r;
    r.reason = timeline.reasons[s];
    std::uint64_t peak = 0;
    for (std::size_t b = span->first; b <= span->last; ++b) {
      r.exits += series[b];
      peak = std::max(peak, series[b]);
    }
    if (r.exits == 0) continue;
    r.mean_per_s = per_second(r.exits, timeline.bucket_ns) / n;
    double squares = 0;
    for (std::size_t b = span->first; b <= span->last; ++b) {
      const double d = per_second(series[b], timeline.bucket_ns) - r.mean_per_s;
      squares += d * d;
    }
    r.stddev_per_s = std::sqrt(squares / n);
    r.cv = r.stddev_per_s / r.mean_per_s;
    r.peak_per_s = per_second(peak, timeline.bucket_ns);
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const RateStability& a, const RateStability& b) {
    if (a.reason.level != b.reason.level) return a.reason.level < b.reason.level;
    return a.exits > b.exits;
  });
  return out;
}

double median(std::vector<std::uint64_t> values) {
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = static_cast<double>(values[mid]);
  if (values.size() % 2) return upper;
  const double lower = static_cast<double>(*std::max_element(values.begin(), values.begin() + mid));
  return (lower + upper) / 2;
}

BurstReport find_bursts(const Timeline& timeline, const BurstRule& rule) {
  BurstReport report;
  report.rule = rule;
  report.level = timeline.has_level(Level::hardware) ? Level::hardware : Level::vmm;
  const auto span = active_span(timeline);
  if (!span) return report;

  std::vector<std::uint64_t> totals;
  for (std::size_t b = span->first; b <= span->last; ++b)
    totals.push_back(timeline.total(b, report.level));
  report.median_exits = median(totals);
  // The smallest count above factor x median, and never below the minimum.
  const auto above = static_cast<std::uint64_t>(std::floor(rule.factor * report.median_exits)) + 1;
  report.threshold_exits = std::max(above, rule.min_exits);

  std::vector<Burst> bursts;
  for (std::size_t b = span->first; b <= span->last; ++b) {
    const std::uint64_t total = totals[b - span->first];
    if (total < report.threshold_exits) continue;
    if (bursts.empty() || bursts.back().last_bucket + 1 != b) {
      Burst burst;
      burst.first_bucket = b;
      burst.start_ns = timeline.bucket_start_ns(b);
      bursts.push_back(burst);
    }
    Burst& burst = bursts.back();
    burst.last_bucket = b;
    burst.exits += total;
    burst.peak_per_s = std::max(burst.peak_per_s, per_second(total, timeline.bucket_ns));
  }
  report.found = bursts.size();

  // Keep the largest, then put them back in time order.
  std::stable_sort(bursts.begin(), bursts.end(),
                   [](const Burst& a, const Burst& b) { return a.exits > b.exits; });
  if (bursts.size() > rule.max_listed) bursts.resize(rule.max_listed);
  std::sort(bursts.begin(), bursts.end(),
            [](const Burst& a, const Burst& b) { return a.first_bucket < b.first_bucket; });

  for (Burst& burst : bursts) {
    burst.duration_ns = (burst.last_bucket - burst.first_bucket + 1) * timeline.bucket_ns;
    std::vector<std::pair<Reason, std::uint64_t>> reasons;
    for (std::size_t s = 0; s < timeline.reasons.size(); ++s) {
      if (timeline.reasons[s].level != report.level) continue;
      std::uint64_t n = 0;
      for (std::size_t b = burst.first_bucket; b <= burst.last_bucket; ++b)
        n += timeline.counts[s][b];
      if (n) reasons.emplace_back(timeline.reasons[s], n);
    }
    std::stable_sort(reasons.begin(), reasons.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (reasons.size() > rule.top_reasons) reasons.resize(rule.top_reasons);
    burst.top = std::move(reasons);
  }
  report.bursts = std::move(bursts);
  return report;
}

}  // namespace kvmscope::model
