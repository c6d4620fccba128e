// The report's percentile sketch: every bucket's value within 1 % of every integer in the bucket
// (checked bucket by bucket over all of uint64), percentiles of seeded synthetic distributions
// against the exact sorted ones, merging, the edge cases, and the memory bound.
#include "model/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kvmscope::model {
namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

// |estimate - exact| <= 1 % of exact, in integers (no floating point in the verdict).
bool within_one_percent(std::uint64_t estimate, std::uint64_t exact) {
  const std::uint64_t diff = estimate > exact ? estimate - exact : exact - estimate;
  return static_cast<unsigned __int128>(diff) * 100 <= exact;
}

TEST(QuantileSketchBuckets, every_value_of_every_bucket_is_within_one_percent_of_its_reading) {
  const std::size_t n = QuantileSketch::bucket_count();
  EXPECT_GT(n, 2000u);  // about 2,100 buckets cover all of uint64
  EXPECT_LT(n, 2200u);
  EXPECT_EQ(QuantileSketch::bucket_lower(0), 0u);
  EXPECT_EQ(QuantileSketch::bucket_upper(n - 1), kMax64);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t lo = QuantileSketch::bucket_lower(i);
    const std::uint64_t hi = QuantileSketch::bucket_upper(i);
    const std::uint64_t value = QuantileSketch::bucket_value(i);
    ASSERT_LE(lo, hi) << i;
    ASSERT_LE(lo, value) << i;
    ASSERT_LE(value, hi) << i;
    // The error is largest at the edges: checking them checks every integer in between.
    ASSERT_TRUE(within_one_percent(value, lo)) << i << ": " << lo << ".." << hi << " " << value;
    ASSERT_TRUE(within_one_percent(value, hi)) << i << ": " << lo << ".." << hi << " " << value;
    // The fast lookup agrees with the edges.
    ASSERT_EQ(QuantileSketch::bucket_of(lo), i);
    ASSERT_EQ(QuantileSketch::bucket_of(hi), i);
    if (i + 1 < n) {
      ASSERT_EQ(QuantileSketch::bucket_lower(i + 1), hi + 1);
    }
  }
}

TEST(QuantileSketchBuckets, small_values_have_a_bucket_each_and_wide_ones_approach_gamma) {
  for (std::uint64_t v = 0; v <= 98; ++v) {
    EXPECT_EQ(QuantileSketch::bucket_lower(QuantileSketch::bucket_of(v)), v);
    EXPECT_EQ(QuantileSketch::bucket_value(QuantileSketch::bucket_of(v)), v);
  }
  const std::size_t i = QuantileSketch::bucket_of(1'000'000'000);
  const double ratio = static_cast<double>(QuantileSketch::bucket_upper(i) + 1) /
                       static_cast<double>(QuantileSketch::bucket_lower(i));
  EXPECT_NEAR(ratio, 1.01 / 0.99, 1e-6);
}

TEST(QuantileSketchBuckets, lookup_agrees_with_a_search_on_random_values) {
  std::mt19937_64 rng(14);
  for (int k = 0; k < 200000; ++k) {
    const std::uint64_t v = rng() >> (rng() % 64);
    const std::size_t i = QuantileSketch::bucket_of(v);
    ASSERT_LE(QuantileSketch::bucket_lower(i), v);
    ASSERT_GE(QuantileSketch::bucket_upper(i), v);
  }
}

TEST(NearestRank, is_ceil_of_q_times_n_and_at_least_one) {
  EXPECT_EQ(nearest_rank(0.999, 1000), 999u);  // not 1000 from 0.999 * 1000 = 999.0000000000001
  EXPECT_EQ(nearest_rank(0.99, 100), 99u);
  EXPECT_EQ(nearest_rank(0.5, 3), 2u);
  EXPECT_EQ(nearest_rank(0.5, 4), 2u);
  EXPECT_EQ(nearest_rank(0.0, 10), 1u);
  EXPECT_EQ(nearest_rank(1.0, 10), 10u);
  EXPECT_EQ(nearest_rank(0.9, 1), 1u);
}

// A seeded source of handling times in ns. Own transforms of mt19937_64 (whose output the
// standard fixes), so the values are the same with every standard library.
struct Source {
  std::mt19937_64 rng;
  explicit Source(std::uint64_t seed) : rng(seed) {}
  double uniform() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {                                                          // Box-Muller
    const double u = 1.0 - uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * uniform());
  }
  static std::uint64_t ns(double v) {
    if (v <= 0) return 0;
    if (v >= 1.8e19) return kMax64;
    return static_cast<std::uint64_t>(v + 0.5);
  }
};

struct Distribution {
  std::string name;
  std::function<std::uint64_t(Source&)> draw;
};

std::vector<Distribution> distributions() {
  return {
      {"uniform 1 ns .. 1 ms", [](Source& s) { return Source::ns(1 + s.uniform() * 1e6); }},
      {"lognormal median 5 us",
       [](Source& s) { return Source::ns(std::exp(std::log(5000.0) + 1.5 * s.normal())); }},
      {"bimodal 800 ns / 2 ms",
       [](Source& s) {
         return s.uniform() < 0.7 ? Source::ns(800 + 50 * s.normal())
                                  : Source::ns(2e6 + 2e5 * s.normal());
       }},
      {"constant 4242 ns", [](Source&) { return std::uint64_t{4242}; }},
      {"heavy tail (Pareto 1.1 from 500 ns)",
       [](Source& s) { return Source::ns(500.0 / std::pow(1.0 - s.uniform(), 1.0 / 1.1)); }},
      {"small values 0..150 ns", [](Source& s) { return Source::ns(s.uniform() * 150); }},
  };
}

std::uint64_t exact_quantile(const std::vector<std::uint64_t>& sorted, double q) {
  return sorted[nearest_rank(q, sorted.size()) - 1];
}

std::vector<double> checked_quantiles() {
  std::vector<double> qs = {0.0, 0.001, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};
  for (int k = 1; k < 100; ++k) qs.push_back(k / 100.0);
  return qs;
}

TEST(QuantileSketch, is_within_one_percent_on_synthetic_distributions) {
  const std::vector<double> qs = checked_quantiles();
  std::uint64_t seed = 1;
  for (const Distribution& d : distributions()) {
    Source source(seed++);
    QuantileSketch sketch;
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 200000; ++i) {
      values.push_back(d.draw(source));
      sketch.add(values.back());
    }
    std::sort(values.begin(), values.end());
    ASSERT_FALSE(sketch.exact()) << d.name;
    ASSERT_FALSE(sketch.collapsed()) << d.name;
    EXPECT_EQ(sketch.count(), values.size());
    EXPECT_EQ(sketch.min(), values.front());
    EXPECT_EQ(sketch.max(), values.back());
    const auto got = sketch.quantiles(qs);
    for (std::size_t k = 0; k < qs.size(); ++k) {
      const std::uint64_t want = exact_quantile(values, qs[k]);
      EXPECT_TRUE(within_one_percent(got[k], want))
          << d.name << " q=" << qs[k] << ": sketch " << got[k] << ", exact " << want;
    }
    const Percentiles p = report_percentiles(sketch);
    EXPECT_EQ(p.max, values.back()) << d.name;
    EXPECT_TRUE(within_one_percent(p.p999, exact_quantile(values, 0.999))) << d.name;
  }
}

TEST(QuantileSketch, is_exact_up_to_its_capacity) {
  Source source(7);
  QuantileSketch sketch;
  std::vector<std::uint64_t> values;
  for (std::size_t i = 0; i < QuantileSketch::kExactCapacity; ++i) {
    values.push_back(Source::ns(std::exp(std::log(5000.0) + 2 * source.normal())));
    sketch.add(values.back());
  }
  ASSERT_TRUE(sketch.exact());
  std::sort(values.begin(), values.end());
  for (double q : checked_quantiles()) EXPECT_EQ(sketch.quantile(q), exact_quantile(values, q));
  sketch.add(1);  // one more: buckets from now on
  EXPECT_FALSE(sketch.exact());
  EXPECT_EQ(sketch.count(), QuantileSketch::kExactCapacity + 1);
  EXPECT_EQ(sketch.quantile(0), 1u);
}

QuantileSketch sketch_of(const std::vector<std::uint64_t>& values, std::size_t from = 0,
                         std::size_t to = std::string::npos) {
  QuantileSketch s;
  for (std::size_t i = from; i < std::min(to, values.size()); ++i) s.add(values[i]);
  return s;
}

TEST(QuantileSketch, merged_is_the_sketch_of_all_the_values) {
  Source source(3);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 50000; ++i)
    values.push_back(Source::ns(std::exp(std::log(20000.0) + 1.2 * source.normal())));
  const QuantileSketch whole = sketch_of(values);
  // Parts of every kind: exact ones (<= capacity), bucketed ones, one empty.
  const std::vector<std::size_t> cuts = {0, 10, 900, 900, 20000, 20500, 50000};
  QuantileSketch merged;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
    merged += sketch_of(values, cuts[k], cuts[k + 1]);
  EXPECT_EQ(merged, whole);
  QuantileSketch reversed;
  for (std::size_t k = cuts.size() - 1; k > 0; --k)
    reversed += sketch_of(values, cuts[k - 1], cuts[k]);
  EXPECT_EQ(reversed, whole);
}

TEST(QuantileSketch, merged_exact_parts_stay_exact_while_they_fit) {
  QuantileSketch a, b;
  for (std::uint64_t v = 1; v <= 600; ++v) a.add(v * 10);
  for (std::uint64_t v = 601; v <= 1024; ++v) b.add(v * 10);
  QuantileSketch both = a;
  both += b;
  EXPECT_TRUE(both.exact());
  EXPECT_EQ(both.quantile(0.5), 5120u);
  EXPECT_EQ(both.quantile(0.999), 10230u);
  b.add(1);
  both = a;
  both += b;  // 1025 values
  EXPECT_FALSE(both.exact());
  EXPECT_TRUE(within_one_percent(both.quantile(0.5), 5120u));  // 1, 10, 20, ...: rank 513
}

TEST(QuantileSketch, empty_one_value_and_zeros) {
  const QuantileSketch empty;
  EXPECT_EQ(empty.count(), 0u);
  EXPECT_EQ(empty.quantile(0.5), 0u);
  EXPECT_EQ(report_percentiles(empty), Percentiles{});
  EXPECT_EQ(empty.memory_bytes(), 0u);

  QuantileSketch one;
  one.add(123456789);
  EXPECT_EQ(report_percentiles(one),
            (Percentiles{123456789, 123456789, 123456789, 123456789, 123456789}));

  QuantileSketch zeros;  // 0 ns: a handling time below the clock's resolution
  for (int i = 0; i < 5000; ++i) zeros.add(0);
  EXPECT_EQ(report_percentiles(zeros), Percentiles{});
  for (int i = 0; i < 5000; ++i) zeros.add(1000);
  EXPECT_EQ(zeros.quantile(0.5), 0u);
  EXPECT_EQ(zeros.quantile(0.5001), 1000u);
  EXPECT_EQ(zeros.quantile(1), 1000u);

  QuantileSketch extremes;  // the very ends of uint64
  for (int i = 0; i < 2000; ++i) extremes.add(i % 2 ? kMax64 : kMax64 - 1);
  EXPECT_EQ(extremes.quantile(1), kMax64);
  EXPECT_TRUE(within_one_percent(extremes.quantile(0.5), kMax64 - 1));
}

// log10 of the values is uniform on [0, decades): the q-quantile is about 10^(q * decades).
QuantileSketch log_uniform(double decades, std::size_t& most_bytes) {
  Source source(9);
  QuantileSketch sketch;
  most_bytes = 0;
  for (int i = 0; i < 10'000'000; ++i) {
    sketch.add(Source::ns(std::pow(10.0, decades * source.uniform())));
    if (i % 100000 == 0) most_bytes = std::max(most_bytes, sketch.memory_bytes());
  }
  most_bytes = std::max(most_bytes, sketch.memory_bytes());
  return sketch;
}

TEST(QuantileSketch, memory_is_bounded_for_ten_million_values_across_nine_decades) {
  std::size_t most = 0;
  const QuantileSketch sketch = log_uniform(9, most);  // 1 ns .. 1 s
  EXPECT_LE(most, QuantileSketch::kMaxBuckets * sizeof(std::uint64_t));
  EXPECT_LE(sizeof(QuantileSketch), 88u);  // the README's memory table: 8 KiB + 88 bytes
  EXPECT_EQ(sketch.count(), 10'000'000u);
  EXPECT_FALSE(sketch.collapsed());  // 0 .. 11.2 s fit in the 1,024 buckets
  EXPECT_NEAR(std::log10(static_cast<double>(sketch.quantile(0.5))), 4.5, 0.01);
  EXPECT_NEAR(std::log10(static_cast<double>(sketch.quantile(0.99))), 8.91, 0.01);
}

TEST(QuantileSketch, memory_is_bounded_for_ten_million_values_across_twelve_decades) {
  std::size_t most = 0;
  const QuantileSketch sketch = log_uniform(12, most);  // 1 ns .. 1000 s
  EXPECT_LE(most, QuantileSketch::kMaxBuckets * sizeof(std::uint64_t));
  EXPECT_TRUE(sketch.collapsed());  // values below ~1.3 us share the lowest bucket
  EXPECT_NEAR(std::log10(static_cast<double>(sketch.quantile(0.5))), 6.0, 0.01);
  EXPECT_NEAR(std::log10(static_cast<double>(sketch.quantile(0.999))), 11.988, 0.01);
}

TEST(QuantileSketch, collapses_the_lowest_buckets_and_says_so) {
  QuantileSketch sketch;
  for (int i = 0; i < 2000; ++i) sketch.add(100'000'000'000);  // 100 s
  for (int i = 0; i < 1000; ++i) sketch.add(200);              // 8.7 decades below: kept
  EXPECT_FALSE(sketch.collapsed());
  EXPECT_TRUE(within_one_percent(sketch.quantile(0.3), 200));
  for (int i = 0; i < 1000; ++i) sketch.add(10);  // 10 decades below: beyond the 1,024 buckets
  EXPECT_TRUE(sketch.collapsed());
  EXPECT_LE(sketch.memory_bytes(), QuantileSketch::kMaxBuckets * sizeof(std::uint64_t));
  EXPECT_EQ(sketch.quantile(0), 10u);  // the minimum is still known exactly
  // The 10 ns values now read as the lowest kept bucket's value (131..133 ns reads 132, an
  // over-estimate);
  // the others as before.
  EXPECT_EQ(sketch.quantile(0.2), 132u);
  EXPECT_TRUE(within_one_percent(sketch.quantile(0.3), 200));
  EXPECT_TRUE(within_one_percent(sketch.quantile(0.9), 100'000'000'000));
}

}  // namespace
}  // namespace kvmscope::model
