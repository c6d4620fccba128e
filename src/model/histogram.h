// log2 histogram of handling times, the same slots the BPF program fills.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::model {

inline constexpr std::size_t kHistogramSlots = KS_HIST_SLOTS;

struct Histogram {
  std::array<std::uint64_t, kHistogramSlots> slots{};

  // Slot for a value: 0 for [0,2), i for [2^i, 2^(i+1)), the last slot for everything above.
  static std::size_t slot_of(std::uint64_t ns);
  // Largest value a slot holds (the last slot: no bound, UINT64_MAX).
  static std::uint64_t slot_upper_bound(std::size_t slot);

  void add(std::uint64_t ns) { ++slots[slot_of(ns)]; }
  std::uint64_t total() const;
  // Upper bound of the slot that holds the q-quantile (0 < q <= 1); 0 when empty.
  // A log2 histogram cannot do better: the true value lies within a factor of 2 below.
  std::uint64_t quantile_upper_bound(double q) const;

  Histogram& operator+=(const Histogram& other);
  bool operator==(const Histogram&) const = default;
};

}  // namespace kvmscope::model
