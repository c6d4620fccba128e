// Rate stability and bursts on timelines written out by hand: the mean, standard deviation and
// coefficient of variation of a known series, the active span, the median and the burst rule.
#include "model/stability.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace kvmscope::model {
namespace {

constexpr Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}
constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

constexpr std::uint64_t kS = 1'000'000'000;
constexpr std::uint64_t kMs = 1'000'000;

Timeline timeline(std::uint64_t bucket_ns, std::vector<Reason> reasons,
                  std::vector<std::vector<std::uint64_t>> counts) {
  Timeline t;
  t.start_ns = 0;
  t.bucket_ns = bucket_ns;
  t.reasons = std::move(reasons);
  t.counts = std::move(counts);
  return t;
}

TEST(Stability, median_of_odd_and_even_counts) {
  EXPECT_EQ(median({1, 3, 2}), 2.0);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(median({}), 0.0);
}

TEST(Stability, active_span_runs_from_the_first_to_the_last_bucket_with_exits) {
  const Timeline t = timeline(kS, {svm(0x72), vmm(2)}, {{0, 1, 0, 0, 0}, {0, 0, 0, 3, 0}});
  const auto span = active_span(t);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->first, 1u);
  EXPECT_EQ(span->last, 3u);
  EXPECT_FALSE(active_span(timeline(kS, {svm(0x72)}, {{0, 0}})));
}

TEST(Stability, mean_stddev_and_cv_of_the_per_bucket_rate) {
  // 1 s buckets; the idle buckets at both ends are outside the active span. Over the 8 active
  // buckets cpuid runs 2,4,4,4,5,5,7,9 per second: mean 5, deviations -3,-1,-1,-1,0,0,2,4,
  // squares sum 32, /8 = 4, stddev 2, CV 0.4. io has 8 in one bucket and 0 in seven: mean 1,
  // squares (7^2 + 7 x 1^2) = 56, /8 = 7, stddev sqrt(7).
  const Timeline t = timeline(kS, {svm(0x72), svm(0x7b)},
                              {{0, 2, 4, 4, 4, 5, 5, 7, 9, 0}, {0, 0, 0, 0, 8, 0, 0, 0, 0, 0}});
  const auto s = rate_stability(t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].reason, svm(0x72));
  EXPECT_EQ(s[0].exits, 40u);
  EXPECT_DOUBLE_EQ(s[0].mean_per_s, 5.0);
  EXPECT_DOUBLE_EQ(s[0].stddev_per_s, 2.0);
  EXPECT_DOUBLE_EQ(s[0].cv, 0.4);
  EXPECT_DOUBLE_EQ(s[0].peak_per_s, 9.0);
  EXPECT_EQ(s[1].reason, svm(0x7b));
  EXPECT_DOUBLE_EQ(s[1].mean_per_s, 1.0);
  EXPECT_DOUBLE_EQ(s[1].stddev_per_s, std::sqrt(7.0));
  EXPECT_DOUBLE_EQ(s[1].cv, std::sqrt(7.0));
}

TEST(Stability, rates_are_per_second_whatever_the_bucket_width) {
  // 10 ms buckets: 3 exits each is 300/s, perfectly steady.
  const auto s = rate_stability(timeline(10 * kMs, {svm(0x72)}, {{3, 3, 3}}));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].mean_per_s, 300.0);
  EXPECT_DOUBLE_EQ(s[0].stddev_per_s, 0.0);
  EXPECT_DOUBLE_EQ(s[0].cv, 0.0);
}

TEST(Stability, lists_hardware_reasons_before_vmm_reasons) {
  const auto s = rate_stability(timeline(kS, {svm(0x72), vmm(2)}, {{1, 1}, {5, 5}}));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].reason.level, Level::hardware);
  EXPECT_EQ(s[1].reason.level, Level::vmm);
}

TEST(Bursts, buckets_far_above_the_median_make_bursts) {
  // Totals 10,10,10,50,60,10,10,100,10: median 10, threshold floor(4 x 10) + 1 = 41. Buckets 3-4
  // are one burst (110 exits), bucket 7 another (100).
  const Timeline t =
      timeline(10 * kMs, {svm(0x72), svm(0x7b)},
               {{10, 10, 10, 40, 20, 10, 10, 10, 10}, {0, 0, 0, 10, 40, 0, 0, 90, 0}});
  const BurstReport r = find_bursts(t);
  EXPECT_EQ(r.level, Level::hardware);
  EXPECT_DOUBLE_EQ(r.median_exits, 10.0);
  EXPECT_EQ(r.threshold_exits, 41u);
  EXPECT_EQ(r.found, 2u);
  ASSERT_EQ(r.bursts.size(), 2u);
  const Burst& a = r.bursts[0];
  EXPECT_EQ(a.first_bucket, 3u);
  EXPECT_EQ(a.last_bucket, 4u);
  EXPECT_EQ(a.start_ns, 30 * kMs);
  EXPECT_EQ(a.duration_ns, 20 * kMs);
  EXPECT_EQ(a.exits, 110u);
  EXPECT_DOUBLE_EQ(a.peak_per_s, 6000.0);  // 60 in 10 ms
  ASSERT_EQ(a.top.size(), 2u);
  EXPECT_EQ(a.top[0], std::make_pair(svm(0x72), std::uint64_t{60}));
  EXPECT_EQ(a.top[1], std::make_pair(svm(0x7b), std::uint64_t{50}));
  EXPECT_EQ(r.bursts[1].first_bucket, 7u);
  EXPECT_EQ(r.bursts[1].exits, 100u);
  EXPECT_EQ(r.bursts[1].top[0].first, svm(0x7b));
}

TEST(Bursts, the_minimum_keeps_an_idle_vms_blips_out) {
  // Active span [5, 0, 30, 0, 19]: median 5, 4 x 5 = 20, so > 20 and >= 20: 21. Only 30.
  const Timeline t = timeline(kS, {svm(0x72)}, {{0, 5, 0, 30, 0, 19, 0}});
  const BurstReport r = find_bursts(t);
  EXPECT_EQ(r.threshold_exits, 21u);
  ASSERT_EQ(r.bursts.size(), 1u);
  EXPECT_EQ(r.bursts[0].first_bucket, 3u);
  // Median 0: the minimum alone decides.
  const BurstReport idle = find_bursts(timeline(kS, {svm(0x72)}, {{1, 0, 0, 19, 0, 20, 0, 0, 1}}));
  EXPECT_DOUBLE_EQ(idle.median_exits, 0.0);
  EXPECT_EQ(idle.threshold_exits, 20u);
  ASSERT_EQ(idle.bursts.size(), 1u);
  EXPECT_EQ(idle.bursts[0].first_bucket, 5u);
}

TEST(Bursts, sums_vmm_exits_only_when_there_are_no_hardware_exits) {
  const Timeline vmm_only = timeline(kS, {vmm(2)}, {{1, 1, 1, 50, 1}});
  const BurstReport r = find_bursts(vmm_only);
  EXPECT_EQ(r.level, Level::vmm);
  ASSERT_EQ(r.bursts.size(), 1u);
  // With hardware exits the VMM ones (each also a hardware exit) are left out of the sum.
  const Timeline both = timeline(kS, {svm(0x7b), vmm(2)}, {{1, 1, 1, 1, 1}, {1, 1, 1, 50, 1}});
  EXPECT_EQ(find_bursts(both).level, Level::hardware);
  EXPECT_TRUE(find_bursts(both).bursts.empty());
}

TEST(Bursts, lists_the_largest_in_time_order) {
  BurstRule rule;
  rule.max_listed = 2;
  rule.min_exits = 1;
  const Timeline t = timeline(kS, {svm(0x72)}, {{1, 30, 1, 50, 1, 40, 1}});
  const BurstReport r = find_bursts(t, rule);
  EXPECT_EQ(r.found, 3u);
  ASSERT_EQ(r.bursts.size(), 2u);
  EXPECT_EQ(r.bursts[0].first_bucket, 3u);
  EXPECT_EQ(r.bursts[1].first_bucket, 5u);
}

}  // namespace
}  // namespace kvmscope::model
