// Counters of one group of exits: how many, and how long KVM (or the VMM) took to handle them.
#pragma once

#include <cstdint>

#include "model/histogram.h"
#include "model/quantile_sketch.h"

namespace kvmscope::model {

struct ExitStats {
  std::uint64_t count = 0;    // exits seen
  std::uint64_t timed = 0;    // exits whose handling time was measured (exit followed by entry)
  std::uint64_t time_ns = 0;  // sum of the measured handling times
  std::uint64_t max_ns = 0;
  Histogram hist;  // of the measured handling times
  // The measured handling times themselves, for exact (or within 1 %) percentiles. Filled by
  // `report` from the events; empty in the live readouts, which have only the histogram.
  QuantileSketch sketch;

  std::uint64_t avg_ns() const { return timed ? time_ns / timed : 0; }
  std::uint64_t p50_ns() const { return clamp_to_max(hist.quantile(0.50)); }
  std::uint64_t p99_ns() const { return clamp_to_max(hist.quantile(0.99)); }

  ExitStats& operator+=(const ExitStats& other);
  bool operator==(const ExitStats&) const = default;

 private:
  // A slot's middle can exceed the largest value seen; never report more than max.
  std::uint64_t clamp_to_max(std::uint64_t v) const { return v > max_ns ? max_ns : v; }
};

inline ExitStats& ExitStats::operator+=(const ExitStats& other) {
  count += other.count;
  timed += other.timed;
  time_ns += other.time_ns;
  if (other.max_ns > max_ns) max_ns = other.max_ns;
  hist += other.hist;
  sketch += other.sketch;
  return *this;
}

}  // namespace kvmscope::model
