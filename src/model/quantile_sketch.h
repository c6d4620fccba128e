// Percentiles of handling times from the events themselves, in memory that does not grow with
// the number of events: `kvmscope report`'s p50/p90/p99/p99.9 per reason and per drill-down row.
//
// Up to kExactCapacity values a sketch keeps the values themselves and its percentiles are
// exact. Past that it counts them in log-spaced buckets (DDSketch, Masson et al., VLDB 2019) with
// relative accuracy a = 1 %, gamma = (1 + a) / (1 - a): bucket edges are whole nanoseconds,
// chosen so that one value per bucket (its representative) is within 1 % of every integer the
// bucket holds, so the percentile printed in whole ns is within 1 % of the true one, rounding
// included. Below 99 ns each integer has a bucket of its own (exact there).
// At most kMaxBuckets buckets are kept (8 KiB): all values from 0 to 11.2 s fit in them; should
// the values span more buckets (a maximum above 11.2 s and values more than about 8.9 decades
// below it), the lowest buckets are collapsed into the lowest kept one, so a percentile that far
// below the maximum reads as that bucket's value (an over-estimate), and collapsed() says so.
// Sketches merge (operator+=) exactly: a merged sketch is the sketch of all the values.
// Percentiles are nearest-rank: the q-quantile of n values is the one of rank ceil(q * n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace kvmscope::model {

class QuantileSketch {
 public:
  static constexpr std::size_t kExactCapacity = 1024;  // values kept as they are (8 KiB)
  static constexpr std::size_t kMaxBuckets = 1024;     // bucket counters kept at most (8 KiB)
  static constexpr unsigned kRelativeErrorPercent = 1;

  void add(std::uint64_t ns);
  QuantileSketch& operator+=(const QuantileSketch& other);

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Every percentile is the recorded value itself (count() <= kExactCapacity).
  bool exact() const { return exact_; }
  // Some low buckets were merged into the lowest kept one (values spanning > ~8.9 decades).
  bool collapsed() const { return collapsed_; }
  std::uint64_t min() const { return min_; }
  std::uint64_t max() const { return max_; }

  // The q-quantile, 0 <= q <= 1 (q = 0: the minimum, 1: the maximum); 0 when empty.
  std::uint64_t quantile(double q) const;
  // Several at once (one sort in exact mode), in the order asked.
  std::vector<std::uint64_t> quantiles(std::initializer_list<double> qs) const;
  std::vector<std::uint64_t> quantiles(const std::vector<double>& qs) const;

  // Heap bytes held (values or bucket counters): at most 8 * max(kExactCapacity, kMaxBuckets).
  std::size_t memory_bytes() const;

  bool operator==(const QuantileSketch&) const = default;

  // The bucket layout, the same for every sketch: bucket i holds the integers from
  // bucket_lower(i) to bucket_lower(i + 1) - 1 (the last one up to UINT64_MAX); bucket 0 is
  // {0}. bucket_value(i) is what a percentile in bucket i reads as.
  static std::size_t bucket_of(std::uint64_t ns);
  static std::uint64_t bucket_lower(std::size_t i);
  static std::uint64_t bucket_upper(std::size_t i);
  static std::uint64_t bucket_value(std::size_t i);
  static std::size_t bucket_count();

 private:
  void to_buckets();
  void add_bucket(std::size_t index, std::uint64_t n);
  std::size_t bucket_of_rank(std::uint64_t rank) const;

  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  bool exact_ = true;
  bool collapsed_ = false;
  std::vector<std::uint64_t> values_;  // exact mode: the values, in arrival order
  std::size_t base_ = 0;               // bucket mode: the bucket index of counts_[0]
  std::vector<std::uint64_t> counts_;  // bucket mode: counts of buckets base_, base_ + 1, ...
};

// What `report` prints of a sketch: p50, p90, p99, p99.9 and the maximum (all 0 when empty).
struct Percentiles {
  std::uint64_t p50 = 0;
  std::uint64_t p90 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t max = 0;
  bool operator==(const Percentiles&) const = default;
};
Percentiles report_percentiles(const QuantileSketch& sketch);

// The nearest rank of the q-quantile of n values, 1-based: ceil(q * n), at least 1 (n > 0).
// q is taken to 9 decimals so that 0.999 * 1000 is rank 999, not 1000.
std::uint64_t nearest_rank(double q, std::uint64_t n);

}  // namespace kvmscope::model
