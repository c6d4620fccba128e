#include "model/histogram.h"

#include <bit>
#include <cmath>
#include <limits>

namespace kvmscope::model {

std::size_t Histogram::slot_of(std::uint64_t ns) {
  if (ns < 2) return 0;
  std::size_t slot = static_cast<std::size_t>(std::bit_width(ns) - 1);
  return slot < kHistogramSlots ? slot : kHistogramSlots - 1;
}

std::uint64_t Histogram::slot_upper_bound(std::size_t slot) {
  if (slot + 1 >= kHistogramSlots) return std::numeric_limits<std::uint64_t>::max();
  return (std::uint64_t{1} << (slot + 1)) - 1;
}

std::uint64_t Histogram::total() const {
  std::uint64_t sum = 0;
  for (auto n : slots) sum += n;
  return sum;
}

std::uint64_t Histogram::quantile_upper_bound(double q) const {
  const std::uint64_t n = total();
  if (n == 0) return 0;
  // The rank of the q-quantile, 1-based: the smallest rank r with r >= q*n.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kHistogramSlots; ++i) {
    seen += slots[i];
    if (seen >= rank) return slot_upper_bound(i);
  }
  return slot_upper_bound(kHistogramSlots - 1);
}

Histogram& Histogram::operator+=(const Histogram& other) {
  for (std::size_t i = 0; i < kHistogramSlots; ++i) slots[i] += other.slots[i];
  return *this;
}

}  // namespace kvmscope::model
