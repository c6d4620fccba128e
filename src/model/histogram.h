// Log-linear histogram of handling times, the same slots the BPF program fills
// (kvmscope_bpf.h: KS_HIST_SLOTS, ks_hist_slot): values below 8 ns exact, each power of two
// above cut into 8 equal slots, so a quantile read from it is within 6.25 % of the true value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::model {

inline constexpr std::size_t kHistogramSlots = KS_HIST_SLOTS;
// The log2 view (slot 0 = [0, 2), slot i = [2^i, 2^(i+1)), the last everything above): JSON's
// hist_log2_ns and the HTML report's distribution.
inline constexpr std::size_t kLog2Slots = KS_LOG2_SLOTS;

struct Histogram {
  std::array<std::uint64_t, kHistogramSlots> slots{};

  static std::size_t slot_of(std::uint64_t ns) { return ks_hist_slot(ns); }
  // Smallest and largest value a slot holds (the last slot: no bound, UINT64_MAX).
  static std::uint64_t slot_lower_bound(std::size_t slot);
  static std::uint64_t slot_upper_bound(std::size_t slot);
  // The log2 slot a slot lies in (slots nest in log2 slots).
  static std::size_t log2_slot_of(std::size_t slot);

  void add(std::uint64_t ns) { ++slots[slot_of(ns)]; }
  std::uint64_t total() const;
  // The q-quantile (0 < q <= 1): the middle of the slot that holds it (the slot's value where it
  // holds one; its lower bound for the last, unbounded slot), so within 6.25 % of the true value;
  // 0 when empty.
  std::uint64_t quantile(double q) const;
  std::array<std::uint64_t, kLog2Slots> log2_slots() const;
  // The upper bound of the log2 slot holding the q-quantile (UINT64_MAX for the last), 0 when
  // empty: what `stat` printed before the log-linear slots, and all a document holding only
  // hist_log2_ns can give (diff reads such documents back).
  std::uint64_t log2_quantile_upper_bound(double q) const;
  // Counts of the log2 view (hist_log2_ns) put back: each into the slot of its lowest value.
  void set_log2_slots(const std::array<std::uint64_t, kLog2Slots>& log2);

  Histogram& operator+=(const Histogram& other);
  bool operator==(const Histogram&) const = default;
};

}  // namespace kvmscope::model
