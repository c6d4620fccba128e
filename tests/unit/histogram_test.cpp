#include "model/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace kvmscope::model {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// The slot rule written the obvious way, to check the branch-free one the BPF program runs
// (ks_hist_slot in kvmscope_bpf.h, compiled here from the same header).
std::size_t reference_slot(std::uint64_t v) {
  if (v < 8) return v;
  const unsigned k = static_cast<unsigned>(std::bit_width(v)) - 1;
  if (k > 39) return 303;
  const std::uint64_t sub = (v - (std::uint64_t{1} << k)) / (std::uint64_t{1} << (k - 3));
  return (k - 2) * 8 + sub;
}

TEST(Histogram, slot_layout_is_the_kernels) {
  EXPECT_EQ(kHistogramSlots, 304u);
  EXPECT_EQ(kLog2Slots, 40u);
  EXPECT_EQ(sizeof(ks_exit_val), 2480u);
}

TEST(Histogram, ks_log2_is_floor_log2) {
  EXPECT_EQ(ks_log2(0), 0u);
  EXPECT_EQ(ks_log2(1), 0u);
  for (unsigned k = 1; k < 64; ++k) {
    const std::uint64_t p = std::uint64_t{1} << k;
    EXPECT_EQ(ks_log2(p - 1), k - 1) << k;
    EXPECT_EQ(ks_log2(p), k) << k;
    EXPECT_EQ(ks_log2(p + 1), k == 0 ? 1 : k) << k;
  }
  EXPECT_EQ(ks_log2(kMax), 63u);
}

TEST(Histogram, slot_of_matches_the_reference_at_every_boundary) {
  // Every value up to 4096, then around every sub-slot boundary of every power of two.
  for (std::uint64_t v = 0; v <= 4096; ++v)
    ASSERT_EQ(Histogram::slot_of(v), reference_slot(v)) << v;
  for (unsigned k = 3; k < 64; ++k)
    for (std::uint64_t j = 0; j <= 8; ++j) {
      const std::uint64_t edge = (std::uint64_t{1} << k) + (k >= 3 ? j << (k - 3) : 0);
      for (std::uint64_t v : {edge - 1, edge, edge + 1})
        ASSERT_EQ(Histogram::slot_of(v), reference_slot(v)) << "k=" << k << " v=" << v;
    }
  EXPECT_EQ(Histogram::slot_of(kMax), 303u);
}

TEST(Histogram, slot_bounds_agree_with_slot_of) {
  EXPECT_EQ(Histogram::slot_lower_bound(0), 0u);
  for (std::size_t slot = 0; slot + 1 < kHistogramSlots; ++slot) {
    const std::uint64_t lo = Histogram::slot_lower_bound(slot);
    const std::uint64_t hi = Histogram::slot_upper_bound(slot);
    ASSERT_LE(lo, hi) << slot;
    EXPECT_EQ(Histogram::slot_of(lo), slot);
    EXPECT_EQ(Histogram::slot_of(hi), slot);
    EXPECT_EQ(Histogram::slot_of(hi + 1), slot + 1);
    EXPECT_EQ(Histogram::slot_lower_bound(slot + 1), hi + 1);
    // No slot is wider than 1/8 of its lowest value (12.5 %) where it holds more than one.
    if (hi > lo) EXPECT_LE((hi - lo + 1) * 8, lo) << slot;
  }
  EXPECT_EQ(Histogram::slot_lower_bound(303), std::uint64_t{15} << 36);
  EXPECT_EQ(Histogram::slot_upper_bound(303), kMax);  // the last slot has no bound
  EXPECT_EQ(Histogram::slot_upper_bound(1000), kMax);
}

TEST(Histogram, slots_nest_in_log2_slots) {
  for (std::size_t slot = 0; slot < kHistogramSlots; ++slot) {
    const std::size_t l = Histogram::log2_slot_of(slot);
    const std::uint64_t lo = Histogram::slot_lower_bound(slot);
    EXPECT_EQ(l, lo < 2 ? 0u : static_cast<std::size_t>(std::bit_width(lo) - 1)) << slot;
    if (slot + 1 < kHistogramSlots)
      EXPECT_EQ(Histogram::log2_slot_of(slot),
                Histogram::log2_slot_of(Histogram::slot_of(Histogram::slot_upper_bound(slot))));
  }
  Histogram h;
  h.add(0);
  h.add(1);
  h.add(3);
  h.add(1000);
  h.add(1023);
  h.add(1024);
  h.add(kMax);
  const auto log2 = h.log2_slots();
  EXPECT_EQ(log2[0], 2u);
  EXPECT_EQ(log2[1], 1u);
  EXPECT_EQ(log2[9], 2u);
  EXPECT_EQ(log2[10], 1u);
  EXPECT_EQ(log2[39], 1u);
}

TEST(Histogram, log2_view_round_trips_and_gives_the_log2_bounds) {
  Histogram h;
  for (int i = 0; i < 90; ++i) h.add(100);   // log2 slot 6: [64, 127]
  for (int i = 0; i < 10; ++i) h.add(3000);  // log2 slot 11: [2048, 4095]
  EXPECT_EQ(h.log2_quantile_upper_bound(0.5), 127u);
  EXPECT_EQ(h.log2_quantile_upper_bound(0.99), 4095u);
  EXPECT_EQ(Histogram{}.log2_quantile_upper_bound(0.5), 0u);
  Histogram back;
  back.set_log2_slots(h.log2_slots());  // a document's hist_log2_ns read back (diff)
  EXPECT_EQ(back.log2_slots(), h.log2_slots());
  EXPECT_EQ(back.total(), 100u);
  EXPECT_EQ(back.log2_quantile_upper_bound(0.99), 4095u);
}

TEST(Histogram, quantile_of_empty_histogram_is_zero) {
  const Histogram h;
  EXPECT_EQ(h.total(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.quantile(1.0), 0u);
}

TEST(Histogram, quantile_of_a_single_value_is_its_slots_middle) {
  Histogram h;
  h.add(1000);  // slot [960, 1023]
  EXPECT_EQ(h.total(), 1u);
  EXPECT_EQ(h.quantile(0.5), 991u);
  EXPECT_EQ(h.quantile(0.001), 991u);
  Histogram small;
  small.add(13);  // exact below 16
  EXPECT_EQ(small.quantile(0.5), 13u);
}

TEST(Histogram, p50_and_p99_pick_the_slot_of_the_rank) {
  Histogram h;
  for (int i = 0; i < 90; ++i) h.add(100);  // [96, 103]
  for (int i = 0; i < 9; ++i) h.add(3000);  // [2816, 3071]
  h.add(5000);                              // [4608, 5119]
  ASSERT_EQ(h.total(), 100u);
  EXPECT_EQ(h.quantile(0.50), 99u);    // rank 50
  EXPECT_EQ(h.quantile(0.90), 99u);    // rank 90: the last of the 100s
  EXPECT_EQ(h.quantile(0.91), 2943u);  // rank 91
  EXPECT_EQ(h.quantile(0.99), 2943u);  // rank 99
  EXPECT_EQ(h.quantile(1.0), 4863u);   // rank 100: the maximum's slot
}

// The exact q-quantile (rank ceil(q*n)) of sorted values.
std::uint64_t exact_quantile(const std::vector<std::uint64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

// Synthetic handling-time distributions: every quantile within 6.25 % of the exact one.
TEST(Histogram, quantiles_are_within_6_25_percent_on_synthetic_distributions) {
  std::mt19937_64 rng(14);
  std::lognormal_distribution<double> lognormal(std::log(2000.0), 1.2);  // ~2 us, wide tail
  std::exponential_distribution<double> expo(1.0 / 800.0);
  std::uniform_int_distribution<std::uint64_t> uniform(16, 1'000'000);
  for (int dist = 0; dist < 4; ++dist) {
    Histogram h;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 200000; ++i) {
      std::uint64_t v = dist == 0   ? static_cast<std::uint64_t>(lognormal(rng))
                        : dist == 1 ? static_cast<std::uint64_t>(expo(rng)) + 300
                        : dist == 2 ? uniform(rng)
                                    : (i % 100 == 0 ? 500'000'000 : 650 + i % 7);  // bimodal
      values.push_back(v);
      h.add(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
      const double exact = static_cast<double>(exact_quantile(values, q));
      const double got = static_cast<double>(h.quantile(q));
      EXPECT_LE(std::fabs(got - exact), exact * 0.0625) << "dist " << dist << " q " << q;
    }
  }
}

TEST(Histogram, add_counts_in_the_slot_of_the_value) {
  Histogram h;
  h.add(0);
  h.add(1);
  h.add(6);
  h.add(kMax);
  EXPECT_EQ(h.slots[0], 1u);
  EXPECT_EQ(h.slots[1], 1u);
  EXPECT_EQ(h.slots[6], 1u);
  EXPECT_EQ(h.slots[303], 1u);
  EXPECT_EQ(h.total(), 4u);
  EXPECT_EQ(h.quantile(1.0), std::uint64_t{15} << 36);  // the last slot: its lower bound
}

TEST(Histogram, plus_equals_adds_slot_by_slot) {
  Histogram a, b;
  a.add(1);
  a.add(100);
  b.add(100);
  b.add(1u << 30);
  a += b;
  EXPECT_EQ(a.slots[1], 1u);
  EXPECT_EQ(a.slots[Histogram::slot_of(100)], 2u);
  EXPECT_EQ(a.slots[Histogram::slot_of(1u << 30)], 1u);
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
