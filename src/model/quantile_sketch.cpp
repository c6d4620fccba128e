#include "model/quantile_sketch.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace kvmscope::model {

namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

// The bucket edges and values, made once. A bucket starting at `lo` reads as
// r = lo + floor(lo / 100), the largest value within 1 % above lo, and ends at
// hi = r + floor(r / 99) = floor(r / 0.99), the largest value r is within 1 % below. So every
// integer v in [lo, hi] has |r - v| <= v / 100, and hi / lo tends to gamma = 1.01 / 0.99.
struct Layout {
  std::vector<std::uint64_t> lower;  // bucket i starts at lower[i]
  std::vector<std::uint64_t> upper;  // ends at upper[i] (inclusive: the last ends at UINT64_MAX)
  std::vector<std::uint64_t> value;  // and reads as value[i]
  // Fast bucket_of: values below 512 directly; above, by bit width and the 9 leading bits, the
  // bucket of the smallest value with those bits (a step of at most 1/256 of the value, far
  // below a bucket's 2 %, so at most one bucket further on).
  std::array<std::uint16_t, 512> small{};
  std::array<std::array<std::uint16_t, 256>, 65> by_prefix{};

  Layout() {
    lower.push_back(0);
    value.push_back(0);
    unsigned __int128 lo = 1;
    while (lo <= kMax64) {
      const unsigned __int128 r = lo + lo / 100;
      const unsigned __int128 hi = r + r / 99;
      lower.push_back(static_cast<std::uint64_t>(lo));
      value.push_back(r > kMax64 ? kMax64 : static_cast<std::uint64_t>(r));
      lo = hi + 1;
    }
    for (std::size_t i = 0; i + 1 < lower.size(); ++i) upper.push_back(lower[i + 1] - 1);
    upper.push_back(kMax64);
    for (std::uint64_t v = 0; v < small.size(); ++v)
      small[v] = static_cast<std::uint16_t>(search(v));
    for (int width = 10; width <= 64; ++width)
      for (std::uint64_t p = 0; p < 256; ++p)
        by_prefix[width][p] = static_cast<std::uint16_t>(search((256 + p) << (width - 9)));
  }

  std::size_t search(std::uint64_t v) const {
    return static_cast<std::size_t>(std::upper_bound(lower.begin(), lower.end(), v) -
                                    lower.begin()) -
           1;
  }
};

const Layout& layout() {
  static const Layout l;
  return l;
}

}  // namespace

std::uint64_t nearest_rank(double q, std::uint64_t n) {
  constexpr std::uint64_t kScale = 1'000'000'000;
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto parts = static_cast<unsigned __int128>(std::llround(clamped * kScale));
  const auto rank = static_cast<std::uint64_t>((parts * n + kScale - 1) / kScale);
  return std::max<std::uint64_t>(rank, 1);
}

std::size_t QuantileSketch::bucket_of(std::uint64_t ns) {
  const Layout& l = layout();
  if (ns < l.small.size()) return l.small[ns];
  const int width = std::bit_width(ns);
  const std::size_t i = l.by_prefix[width][(ns >> (width - 9)) - 256];
  // A prefix cell is at most 1/256 of its values wide, a bucket at least ~1/51 of its values
  // (from 512 up): ns is in the cell's first bucket or the next one. No branch: the step is
  // taken at random for random values, and a mispredicted branch cost more than the lookup.
  return i + static_cast<std::size_t>(ns > l.upper[i]);
}

std::uint64_t QuantileSketch::bucket_lower(std::size_t i) {
  return layout().lower.at(i);
}

std::uint64_t QuantileSketch::bucket_upper(std::size_t i) {
  return layout().upper.at(i);
}

std::uint64_t QuantileSketch::bucket_value(std::size_t i) {
  return layout().value.at(i);
}

std::size_t QuantileSketch::bucket_count() {
  return layout().lower.size();
}

void QuantileSketch::add(std::uint64_t ns) {
  if (count_ == 0) min_ = max_ = ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
  ++count_;
  if (!exact_) {
    // The common case first: a bucket inside the span already kept.
    const std::size_t i = bucket_of(ns) - base_;  // wraps around below base_: not < size
    if (i < counts_.size()) {
      ++counts_[i];
    } else {
      add_bucket(i + base_, 1);
    }
    return;
  }
  if (values_.size() < kExactCapacity) {
    if (values_.empty()) values_.reserve(16);
    values_.push_back(ns);
    return;
  }
  to_buckets();
  add_bucket(bucket_of(ns), 1);
}

void QuantileSketch::to_buckets() {
  exact_ = false;
  std::vector<std::uint64_t> values;
  values.swap(values_);  // frees them
  for (std::uint64_t v : values) add_bucket(bucket_of(v), 1);
}

// Counts n values into bucket `index`, keeping at most kMaxBuckets counters: the span
// base_ .. base_ + size - 1 follows the highest bucket, and what falls below it is counted in its
// lowest bucket.
void QuantileSketch::add_bucket(std::size_t index, std::uint64_t n) {
  if (counts_.empty()) {
    base_ = index;
    counts_.reserve(16);
    counts_.push_back(n);
    return;
  }
  std::size_t top = base_ + counts_.size() - 1;
  if (index > top) {
    const std::size_t floor = index + 1 > kMaxBuckets ? index + 1 - kMaxBuckets : 0;
    if (floor > base_) {  // collapse the buckets below `floor` into it
      collapsed_ = true;
      const std::size_t drop = std::min(floor - base_, counts_.size());
      std::uint64_t below = 0;
      for (std::size_t i = 0; i < drop; ++i) below += counts_[i];
      counts_.erase(counts_.begin(), counts_.begin() + static_cast<std::ptrdiff_t>(drop));
      base_ = floor;
      if (counts_.empty()) counts_.push_back(0);
      counts_[0] += below;
    }
    const std::size_t size = index - base_ + 1;
    if (counts_.capacity() < size)
      counts_.reserve(std::min(kMaxBuckets, std::max(size, 2 * counts_.capacity())));
    counts_.resize(size, 0);
  } else if (index < base_) {
    const std::size_t floor = top + 1 > kMaxBuckets ? top + 1 - kMaxBuckets : 0;
    if (index < floor) {
      collapsed_ = true;
      index = floor;
    }
    if (index < base_) {
      const std::size_t grow = base_ - index;
      const std::size_t size = counts_.size() + grow;
      if (counts_.capacity() < size)
        counts_.reserve(std::min(kMaxBuckets, std::max(size, 2 * counts_.capacity())));
      counts_.insert(counts_.begin(), grow, 0);
      base_ = index;
    }
  }
  counts_[index - base_] += n;
}

QuantileSketch& QuantileSketch::operator+=(const QuantileSketch& other) {
  if (other.count_ == 0) return *this;
  if (count_ == 0) {
    *this = other;
    return *this;
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  collapsed_ = collapsed_ || other.collapsed_;
  // Both exact and together still few: stays exact. Otherwise one of them holds more than
  // kExactCapacity values already, or both together do.
  if (exact_ && other.exact_ && values_.size() + other.values_.size() <= kExactCapacity) {
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    return *this;
  }
  if (exact_) to_buckets();
  if (other.exact_) {
    for (std::uint64_t v : other.values_) add_bucket(bucket_of(v), 1);
  } else {
    // Highest first: the span then follows the overall top from the start, and every bucket of
    // `other` lands where it would had its values been added here one by one.
    for (std::size_t i = other.counts_.size(); i-- > 0;)
      if (other.counts_[i]) add_bucket(other.base_ + i, other.counts_[i]);
  }
  return *this;
}

std::size_t QuantileSketch::bucket_of_rank(std::uint64_t rank) const {
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return base_ + i;
  }
  return base_ + counts_.size() - 1;
}

std::vector<std::uint64_t> QuantileSketch::quantiles(const std::vector<double>& qs) const {
  std::vector<std::uint64_t> out;
  out.reserve(qs.size());
  if (count_ == 0) {
    out.assign(qs.size(), 0);
    return out;
  }
  std::vector<std::uint64_t> sorted;
  if (exact_) {
    sorted = values_;
    std::sort(sorted.begin(), sorted.end());
  }
  for (double q : qs) {
    const std::uint64_t rank = nearest_rank(q, count_);
    if (rank >= count_) {
      out.push_back(max_);  // the largest value is known exactly
    } else if (rank == 1) {
      out.push_back(min_);  // and so is the smallest
    } else if (exact_) {
      out.push_back(sorted[rank - 1]);
    } else {
      // The representative is within 1 % of every value of its bucket; the value of that rank
      // also lies in [min, max], so clamping only brings the answer closer to it.
      out.push_back(std::clamp(bucket_value(bucket_of_rank(rank)), min_, max_));
    }
  }
  return out;
}

std::vector<std::uint64_t> QuantileSketch::quantiles(std::initializer_list<double> qs) const {
  return quantiles(std::vector<double>(qs));
}

std::uint64_t QuantileSketch::quantile(double q) const {
  return quantiles({q}).front();
}

Percentiles report_percentiles(const QuantileSketch& sketch) {
  const auto q = sketch.quantiles({0.5, 0.9, 0.99, 0.999, 1.0});
  return {q[0], q[1], q[2], q[3], q[4]};
}

std::size_t QuantileSketch::memory_bytes() const {
  return (values_.capacity() + counts_.capacity()) * sizeof(std::uint64_t);
}

}  // namespace kvmscope::model
