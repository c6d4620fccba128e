#include "model/histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace kvmscope::model {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

TEST(Histogram, slot_of_puts_each_power_of_two_in_its_own_slot) {
  EXPECT_EQ(Histogram::slot_of(0), 0u);
  EXPECT_EQ(Histogram::slot_of(1), 0u);
  EXPECT_EQ(Histogram::slot_of(2), 1u);
  EXPECT_EQ(Histogram::slot_of(3), 1u);
  EXPECT_EQ(Histogram::slot_of(4), 2u);
  EXPECT_EQ(Histogram::slot_of(1023), 9u);
  EXPECT_EQ(Histogram::slot_of(1024), 10u);
  EXPECT_EQ(Histogram::slot_of((std::uint64_t{1} << 38) - 1), 37u);
  EXPECT_EQ(Histogram::slot_of(std::uint64_t{1} << 38), 38u);
}

TEST(Histogram, slot_of_clamps_large_values_to_the_last_slot) {
  EXPECT_EQ(kHistogramSlots, 40u);
  EXPECT_EQ(Histogram::slot_of((std::uint64_t{1} << 39) - 1), 38u);
  EXPECT_EQ(Histogram::slot_of(std::uint64_t{1} << 39), 39u);
  EXPECT_EQ(Histogram::slot_of(std::uint64_t{1} << 50), 39u);
  EXPECT_EQ(Histogram::slot_of(kMax), 39u);
}

TEST(Histogram, slot_upper_bound_is_the_largest_value_of_the_slot) {
  EXPECT_EQ(Histogram::slot_upper_bound(0), 1u);
  EXPECT_EQ(Histogram::slot_upper_bound(1), 3u);
  EXPECT_EQ(Histogram::slot_upper_bound(10), 2047u);
  EXPECT_EQ(Histogram::slot_upper_bound(38), (std::uint64_t{1} << 39) - 1);
  EXPECT_EQ(Histogram::slot_upper_bound(39), kMax);  // the last slot has no bound
  EXPECT_EQ(Histogram::slot_upper_bound(1000), kMax);
}

TEST(Histogram, slot_bounds_agree_with_slot_of) {
  for (std::size_t slot = 0; slot + 1 < kHistogramSlots; ++slot) {
    const std::uint64_t ub = Histogram::slot_upper_bound(slot);
    EXPECT_EQ(Histogram::slot_of(ub), slot);
    EXPECT_EQ(Histogram::slot_of(ub + 1), slot + 1);
  }
}

TEST(Histogram, quantile_of_empty_histogram_is_zero) {
  const Histogram h;
  EXPECT_EQ(h.total(), 0u);
  EXPECT_EQ(h.quantile_upper_bound(0.5), 0u);
  EXPECT_EQ(h.quantile_upper_bound(0.99), 0u);
  EXPECT_EQ(h.quantile_upper_bound(1.0), 0u);
}

TEST(Histogram, quantile_of_a_single_value_is_its_slot_bound) {
  Histogram h;
  h.add(1000);  // slot 9: [512, 1024)
  EXPECT_EQ(h.total(), 1u);
  EXPECT_EQ(h.quantile_upper_bound(0.5), 1023u);
  EXPECT_EQ(h.quantile_upper_bound(0.99), 1023u);
  EXPECT_EQ(h.quantile_upper_bound(0.001), 1023u);
}

TEST(Histogram, p50_and_p99_pick_the_slot_of_the_rank) {
  Histogram h;
  for (int i = 0; i < 90; ++i) h.add(100);  // slot 6: [64, 128)
  for (int i = 0; i < 9; ++i) h.add(3000);  // slot 11: [2048, 4096)
  h.add(5000);                              // slot 12: [4096, 8192)
  ASSERT_EQ(h.total(), 100u);
  EXPECT_EQ(h.quantile_upper_bound(0.50), 127u);   // rank 50
  EXPECT_EQ(h.quantile_upper_bound(0.90), 127u);   // rank 90: the last of the 100s
  EXPECT_EQ(h.quantile_upper_bound(0.91), 4095u);  // rank 91
  EXPECT_EQ(h.quantile_upper_bound(0.99), 4095u);  // rank 99
  EXPECT_EQ(h.quantile_upper_bound(1.0), 8191u);   // rank 100: the maximum's slot
}

TEST(Histogram, p99_of_a_thousand_values_needs_the_tail) {
  Histogram h;
  for (int i = 0; i < 989; ++i) h.add(10);       // slot 3
  for (int i = 0; i < 11; ++i) h.add(1u << 20);  // slot 20
  // rank 990 falls into the tail: 989 values are below it.
  EXPECT_EQ(h.quantile_upper_bound(0.99), (std::uint64_t{1} << 21) - 1);
  EXPECT_EQ(h.quantile_upper_bound(0.50), 15u);
}

TEST(Histogram, add_counts_in_the_slot_of_the_value) {
  Histogram h;
  h.add(0);
  h.add(1);
  h.add(6);
  h.add(kMax);
  EXPECT_EQ(h.slots[0], 2u);
  EXPECT_EQ(h.slots[2], 1u);
  EXPECT_EQ(h.slots[39], 1u);
  EXPECT_EQ(h.total(), 4u);
  EXPECT_EQ(h.quantile_upper_bound(1.0), kMax);
}

TEST(Histogram, plus_equals_adds_slot_by_slot) {
  Histogram a, b;
  a.add(1);
  a.add(100);
  b.add(100);
  b.add(1u << 30);
  a += b;
  EXPECT_EQ(a.slots[0], 1u);
  EXPECT_EQ(a.slots[6], 2u);
  EXPECT_EQ(a.slots[30], 1u);
  EXPECT_EQ(a.total(), 4u);
  Histogram expected;
  for (std::uint64_t v :
       {std::uint64_t{1}, std::uint64_t{100}, std::uint64_t{100}, std::uint64_t{1} << 30})
    expected.add(v);
  EXPECT_EQ(a, expected);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace kvmscope::model
