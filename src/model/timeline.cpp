#include "model/timeline.h"

#include <algorithm>
#include <limits>

namespace kvmscope::model {

namespace {

constexpr std::uint64_t kMinAutoBucketNs = 1000;  // 1 us: finer says nothing about exit rates
constexpr std::uint64_t kAutoTargetBuckets = 400;

// Sums groups of `factor` adjacent bins.
std::vector<std::uint64_t> regroup(const std::vector<std::uint64_t>& bins, std::size_t factor,
                                   std::size_t size) {
  std::vector<std::uint64_t> out(size, 0);
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const std::size_t to = i / factor;
    if (to < size) out[to] += bins[i];
  }
  return out;
}

}  // namespace

std::uint64_t Timeline::total(std::size_t bucket, Level level) const {
  std::uint64_t n = 0;
  for (std::size_t s = 0; s < reasons.size(); ++s)
    if (reasons[s].level == level) n += counts[s][bucket];
  return n;
}

std::uint64_t Timeline::series_total(std::size_t series) const {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts[series]) n += c;
  return n;
}

bool Timeline::has_level(Level level) const {
  return std::any_of(reasons.begin(), reasons.end(),
                     [&](const Reason& r) { return r.level == level; });
}

std::uint64_t round_up_1_2_5(std::uint64_t ns) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (std::uint64_t power = 1;; power *= 10) {
    for (std::uint64_t m : {1u, 2u, 5u})
      if (m * power >= ns) return m * power;
    if (power > kMax / 50) return kMax;  // the next 5 x 10^k would overflow
  }
}

std::uint64_t auto_bucket_ns(std::uint64_t span_ns) {
  // "Larger than span/400" keeps the bucket holding the end within 400.
  return std::max(round_up_1_2_5(span_ns / kAutoTargetBuckets + 1), kMinAutoBucketNs);
}

TimelineBuilder::TimelineBuilder(std::uint64_t start_ns, std::uint64_t bucket_ns,
                                 std::size_t max_buckets)
    : start_ns_(start_ns),
      base_ns_(bucket_ns ? bucket_ns : kMinAutoBucketNs),
      automatic_(bucket_ns == 0),
      max_buckets_(std::max<std::size_t>(max_buckets, 1)) {}

std::size_t TimelineBuilder::bin_of(std::uint64_t ts_ns) const {
  return ts_ns <= start_ns_ ? 0 : static_cast<std::size_t>((ts_ns - start_ns_) / base_ns_);
}

void TimelineBuilder::widen() {
  // Automatic mode stays on powers of ten (see base_ns_); a given width doubles.
  const std::size_t factor = automatic_ ? 10 : 2;
  base_ns_ *= factor;
  if (!automatic_) widened_ = true;
  bins_ = (bins_ + factor - 1) / factor;
  for (auto& bins : series_) bins = regroup(bins, factor, (bins.size() + factor - 1) / factor);
  bin_lo_ns_ = 1;  // the cached bin's range is in the old width
  bin_hi_ns_ = 0;
}

std::size_t TimelineBuilder::series(const Reason& reason) {
  const auto [it, added] = ids_.try_emplace(reason, series_.size());
  if (added) series_.emplace_back();
  return it->second;
}

void TimelineBuilder::add_elsewhere(std::uint64_t ts_ns, std::size_t series) {
  std::size_t bin = last_bin_;
  if (ts_ns < bin_lo_ns_ || ts_ns >= bin_hi_ns_) {
    bin = bin_of(ts_ns);
    while (bin >= max_buckets_) {
      widen();
      bin = bin_of(ts_ns);
    }
    // Bin 0 also holds everything before start_ns_; the last bin's end may not fit 64 bits.
    last_bin_ = bin;
    bin_lo_ns_ = bin == 0 ? 0 : start_ns_ + bin * base_ns_;
    const std::uint64_t begin = start_ns_ + bin * base_ns_;
    bin_hi_ns_ = begin > std::numeric_limits<std::uint64_t>::max() - base_ns_
                     ? std::numeric_limits<std::uint64_t>::max()
                     : begin + base_ns_;
  }
  std::vector<std::uint64_t>& bins = series_[series];
  if (bins.size() <= bin) bins.resize(bin + 1, 0);
  ++bins[bin];
  bins_ = std::max(bins_, bin + 1);
}

Timeline TimelineBuilder::finish(std::uint64_t end_ns) const {
  Timeline t;
  t.start_ns = start_ns_;
  t.widened = widened_;
  const std::uint64_t span = end_ns > start_ns_ ? end_ns - start_ns_ : 0;
  // The final width is a whole number of bins: in automatic mode every 1/2/5 x 10^k width at
  // least as wide as the power-of-ten base is a multiple of it.
  std::uint64_t width =
      automatic_ ? round_up_1_2_5(std::max(auto_bucket_ns(span), base_ns_)) : base_ns_;
  while (span / width >= max_buckets_) {
    width *= automatic_ ? 10 : 2;
    if (!automatic_) t.widened = true;
  }
  t.bucket_ns = width;
  if (series_.empty()) return t;
  const std::size_t factor = static_cast<std::size_t>(width / base_ns_);
  // Up to the bucket holding end_ns, or the last exit should one lie beyond it.
  const std::size_t buckets =
      std::max(static_cast<std::size_t>(span / width) + 1, (bins_ + factor - 1) / factor);
  for (const auto& [reason, id] : ids_) {  // in Reason order
    t.reasons.push_back(reason);
    t.counts.push_back(regroup(series_[id], factor, buckets));
  }
  return t;
}

}  // namespace kvmscope::model
