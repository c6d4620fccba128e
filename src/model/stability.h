// How steady the exit rates of a recording were: per reason, the mean, standard deviation and
// coefficient of variation of its per-bucket rate; and bursts, the buckets where the total rate
// was far above the usual. Pure functions of a Timeline, so every number can be checked by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "model/timeline.h"

namespace kvmscope::model {

// The recording's active span: from the first to the last bucket holding any exit (of either
// level), both included. Idle time before the first and after the last exit (a recording that
// ran on after its VM) would otherwise dilute every mean. Unset when there are no exits.
struct ActiveSpan {
  std::size_t first = 0;
  std::size_t last = 0;
  std::size_t buckets() const { return last - first + 1; }
};
std::optional<ActiveSpan> active_span(const Timeline& timeline);

struct RateStability {
  Reason reason;
  std::uint64_t exits = 0;  // in the active span (all of them)
  double mean_per_s = 0;    // of the per-bucket rate over every bucket of the active span,
  double stddev_per_s = 0;  //   zeros included; population standard deviation (divide by N)
  double cv = 0;            // stddev / mean: 0 = perfectly steady, 1 and up = very bursty
  double peak_per_s = 0;    // the highest bucket's rate
};

// One entry per reason with exits, ordered by level (hardware first), then exits descending.
std::vector<RateStability> rate_stability(const Timeline& timeline);

// The burst rule: a bucket is a burst bucket when its total is more than `factor` times the
// median bucket total of the active span and at least `min_exits`; adjacent burst buckets make
// one burst. The minimum keeps a nearly idle VM (median 0 or 1) from turning every small blip into
// a burst.
struct BurstRule {
  double factor = 4.0;
  std::uint64_t min_exits = 20;
  std::size_t max_listed = 20;  // the largest ones, by exits, listed in time order
  std::size_t top_reasons = 3;
};

struct Burst {
  std::size_t first_bucket = 0;
  std::size_t last_bucket = 0;  // included
  std::uint64_t start_ns = 0;   // CLOCK_MONOTONIC of the first bucket's start
  std::uint64_t duration_ns = 0;
  std::uint64_t exits = 0;
  double peak_per_s = 0;                              // the highest bucket's rate in the burst
  std::vector<std::pair<Reason, std::uint64_t>> top;  // most exits first
};

struct BurstReport {
  // Which exits are summed: hardware exits when the recording has any, else exits to the VMM.
  // Never both: every exit to the VMM is also a hardware exit, summing would count it twice.
  Level level = Level::hardware;
  BurstRule rule;
  double median_exits = 0;            // bucket total, over the active span
  std::uint64_t threshold_exits = 0;  // a burst bucket holds at least this many
  std::size_t found = 0;              // bursts found; `bursts` lists at most rule.max_listed
  std::vector<Burst> bursts;          // in time order
};

BurstReport find_bursts(const Timeline& timeline, const BurstRule& rule = {});

// The median of values (the mean of the two middle ones for an even count); 0 when empty.
double median(std::vector<std::uint64_t> values);

}  // namespace kvmscope::model
