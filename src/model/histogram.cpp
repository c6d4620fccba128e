#include "model/histogram.h"

#include <cmath>
#include <limits>

namespace kvmscope::model {

std::uint64_t Histogram::slot_lower_bound(std::size_t slot) {
  if (slot >= kHistogramSlots) return std::numeric_limits<std::uint64_t>::max();
  return ks_hist_slot_low(static_cast<ks_u32>(slot));
}

std::uint64_t Histogram::slot_upper_bound(std::size_t slot) {
  if (slot + 1 >= kHistogramSlots) return std::numeric_limits<std::uint64_t>::max();
  return ks_hist_slot_low(static_cast<ks_u32>(slot + 1)) - 1;
}

std::size_t Histogram::log2_slot_of(std::size_t slot) {
  const std::uint64_t low = slot_lower_bound(slot);
  return low < 2 ? 0 : ks_log2(low);
}

std::uint64_t Histogram::total() const {
  std::uint64_t sum = 0;
  for (auto n : slots) sum += n;
  return sum;
}

std::uint64_t Histogram::quantile(double q) const {
  const std::uint64_t n = total();
  if (n == 0) return 0;
  // The rank of the q-quantile, 1-based: the smallest rank r with r >= q*n.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  std::uint64_t seen = 0;
  std::size_t i = 0;
  for (; i + 1 < kHistogramSlots; ++i) {
    seen += slots[i];
    if (seen >= rank) break;
  }
  const std::uint64_t low = slot_lower_bound(i);
  if (i + 1 >= kHistogramSlots) return low;
  return low + (slot_upper_bound(i) - low) / 2;
}

std::array<std::uint64_t, kLog2Slots> Histogram::log2_slots() const {
  std::array<std::uint64_t, kLog2Slots> out{};
  for (std::size_t i = 0; i < kHistogramSlots; ++i) out[log2_slot_of(i)] += slots[i];
  return out;
}

std::uint64_t Histogram::log2_quantile_upper_bound(double q) const {
  const std::uint64_t n = total();
  if (n == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  const auto log2 = log2_slots();
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i + 1 < kLog2Slots; ++i) {
    seen += log2[i];
    if (seen >= rank) return (std::uint64_t{2} << i) - 1;
  }
  return std::numeric_limits<std::uint64_t>::max();
}

void Histogram::set_log2_slots(const std::array<std::uint64_t, kLog2Slots>& log2) {
  slots = {};
  for (std::size_t i = 0; i < kLog2Slots; ++i)
    slots[slot_of(i == 0 ? 0 : std::uint64_t{1} << i)] += log2[i];
}

Histogram& Histogram::operator+=(const Histogram& other) {
  for (std::size_t i = 0; i < kHistogramSlots; ++i) slots[i] += other.slots[i];
  return *this;
}

}  // namespace kvmscope::model
