// Exits per reason per time bucket, built while streaming through a recording. The bucket width
// is either given or chosen at the end from the recording's length; either way memory stays
// bounded by (buckets x reasons), with the number of buckets capped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "model/exit_key.h"

namespace kvmscope::model {

// Enough for hours at 100 ms or minutes at 1 ms; beyond it buckets are widened.
inline constexpr std::size_t kMaxTimelineBuckets = 100'000;

struct Timeline {
  std::uint64_t start_ns = 0;   // CLOCK_MONOTONIC where bucket 0 begins
  std::uint64_t bucket_ns = 0;  // width of every bucket
  bool widened = false;         // the requested width was doubled until the buckets fit the cap
  std::vector<Reason> reasons;  // one series per reason seen, in Reason order
  std::vector<std::vector<std::uint64_t>> counts;  // counts[series][bucket], equal lengths

  std::size_t buckets() const { return counts.empty() ? 0 : counts.front().size(); }
  std::uint64_t bucket_start_ns(std::size_t bucket) const { return start_ns + bucket * bucket_ns; }
  // Exits of one level in one bucket.
  std::uint64_t total(std::size_t bucket, Level level) const;
  // Exits of one series over all buckets.
  std::uint64_t series_total(std::size_t series) const;
  bool has_level(Level level) const;
};

// The automatic width for a recording of span_ns: the smallest 1, 2 or 5 x 10^k ns that is
// larger than span/400, so a recording gets between 160 and 400 buckets; at least 1 us.
std::uint64_t auto_bucket_ns(std::uint64_t span_ns);

// Smallest 1, 2 or 5 x 10^k ns that is >= ns (1 for 0).
std::uint64_t round_up_1_2_5(std::uint64_t ns);

class TimelineBuilder {
 public:
  // bucket_ns 0: automatic (auto_bucket_ns of the span seen at finish). Events before start_ns
  // (a ring buffer shared by CPUs delivers slightly out of order) count in bucket 0.
  explicit TimelineBuilder(std::uint64_t start_ns, std::uint64_t bucket_ns = 0,
                           std::size_t max_buckets = kMaxTimelineBuckets);

  void add(std::uint64_t ts_ns, const Reason& reason) { add(ts_ns, series(reason)); }

  // A small dense id for the reason's series, stable for the builder's life: a caller that
  // counts the same reason often keeps it and calls add(ts, id), with no lookup by Reason.
  std::size_t series(const Reason& reason);
  void add(std::uint64_t ts_ns, std::size_t series) {
    // Inline for the common case, once per exit: the bin of the last exit, already allocated.
    if (ts_ns >= bin_lo_ns_ && ts_ns < bin_hi_ns_) {
      std::vector<std::uint64_t>& bins = series_[series];
      if (last_bin_ < bins.size()) {
        ++bins[last_bin_];
        return;
      }
    }
    add_elsewhere(ts_ns, series);
  }

  // The timeline from start_ns to end_ns (the last bucket holds end_ns).
  Timeline finish(std::uint64_t end_ns) const;

 private:
  // Bins at width base_ns_: the requested width, or in automatic mode a power of ten from 1 us
  // up, so that any final 1/2/5 x 10^k width at least as wide is a whole number of bins.
  std::size_t bin_of(std::uint64_t ts_ns) const;
  void widen();                                                 // base_ns_ x factor, bins merged
  void add_elsewhere(std::uint64_t ts_ns, std::size_t series);  // add() off its fast path

  std::uint64_t start_ns_;
  std::uint64_t base_ns_;
  bool automatic_;
  bool widened_ = false;
  std::size_t max_buckets_;
  std::size_t bins_ = 0;                            // bins in use: highest index + 1
  std::map<Reason, std::size_t> ids_;               // reason -> index into series_
  std::vector<std::vector<std::uint64_t>> series_;  // [id][bin]
  // The bin the last exit fell in and the times it covers, [bin_lo_ns_, bin_hi_ns_): exits come
  // in time order, so nearly all land in it and need no division. Empty (lo > hi) after widen().
  std::size_t last_bin_ = 0;
  std::uint64_t bin_lo_ns_ = 1;
  std::uint64_t bin_hi_ns_ = 0;
};

}  // namespace kvmscope::model
