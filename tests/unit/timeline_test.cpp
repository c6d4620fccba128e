// Timeline buckets: the automatic width rule, fixed widths, the cap and its widening, and the
// placement of events, all on numbers small enough to check by hand.
#include "model/timeline.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace kvmscope::model {
namespace {

constexpr Reason vmx(std::uint32_t code) {
  return {Level::hardware, Isa::vmx, code};
}
constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kS = 1'000'000'000;

TEST(Timeline, rounds_up_to_1_2_5_times_a_power_of_ten) {
  EXPECT_EQ(round_up_1_2_5(0), 1u);
  EXPECT_EQ(round_up_1_2_5(1), 1u);
  EXPECT_EQ(round_up_1_2_5(3), 5u);
  EXPECT_EQ(round_up_1_2_5(6), 10u);
  EXPECT_EQ(round_up_1_2_5(11), 20u);
  EXPECT_EQ(round_up_1_2_5(20), 20u);
  EXPECT_EQ(round_up_1_2_5(25 * kMs), 50 * kMs);
}

TEST(Timeline, automatic_width_gives_at_most_400_buckets) {
  EXPECT_EQ(auto_bucket_ns(10 * kS), 50 * kMs);   // 10 s / 400 = 25 ms -> 50 ms: 201 buckets
  EXPECT_EQ(auto_bucket_ns(4 * kS), 20 * kMs);    // exactly 10 ms would give 401: 20 ms
  EXPECT_EQ(auto_bucket_ns(3 * kS), 10 * kMs);    // 7.5 ms -> 10 ms: 301 buckets
  EXPECT_EQ(auto_bucket_ns(1 * kMs), 5'000u);     // 2.5 us -> 5 us
  EXPECT_EQ(auto_bucket_ns(0), 1'000u);           // never below 1 us
  EXPECT_EQ(auto_bucket_ns(3600 * kS), 10 * kS);  // an hour: 9 s -> 10 s
}

TEST(Timeline, automatic_width_is_chosen_from_the_span_at_the_end) {
  TimelineBuilder b(5 * kS);  // bucket 0 starts at 5 s
  b.add(5 * kS, vmx(10));
  b.add(6 * kS, vmx(10));
  b.add(6 * kS + 49 * kMs, vmx(30));
  b.add(15 * kS, vmm(2));
  const Timeline t = b.finish(15 * kS);
  EXPECT_EQ(t.bucket_ns, 50 * kMs);
  EXPECT_EQ(t.buckets(), 201u);
  EXPECT_FALSE(t.widened);
  ASSERT_EQ(t.reasons, (std::vector<Reason>{vmx(10), vmx(30), vmm(2)}));
  EXPECT_EQ(t.counts[0][0], 1u);
  EXPECT_EQ(t.counts[0][20], 1u);
  EXPECT_EQ(t.counts[1][20], 1u);
  EXPECT_EQ(t.counts[2][200], 1u);
  EXPECT_EQ(t.total(20, Level::hardware), 2u);
  EXPECT_EQ(t.total(20, Level::vmm), 0u);
  EXPECT_EQ(t.bucket_start_ns(20), 6 * kS);
}

TEST(Timeline, a_given_width_is_kept) {
  TimelineBuilder b(0, 100 * kMs);
  b.add(50 * kMs, vmx(10));
  b.add(150 * kMs, vmx(10));
  b.add(160 * kMs, vmx(10));
  const Timeline t = b.finish(300 * kMs);
  EXPECT_EQ(t.bucket_ns, 100 * kMs);
  EXPECT_EQ(t.counts[0], (std::vector<std::uint64_t>{1, 2, 0, 0}));
}

TEST(Timeline, a_given_width_doubles_until_the_buckets_fit_the_cap) {
  TimelineBuilder b(0, 10, 4);  // 10 ns buckets, at most 4
  for (std::uint64_t ts : {0, 15, 35, 45}) b.add(ts, vmx(10));
  const Timeline t = b.finish(45);
  EXPECT_TRUE(t.widened);
  EXPECT_EQ(t.bucket_ns, 20u);
  EXPECT_EQ(t.counts[0], (std::vector<std::uint64_t>{2, 1, 1}));
}

TEST(Timeline, automatic_bins_widen_by_ten_and_still_regroup_exactly) {
  TimelineBuilder b(0, 0, 10);  // 1 us bins, at most 10: 25 us needs 10 us bins
  b.add(0, vmx(10));
  b.add(25'000, vmx(10));
  const Timeline t = b.finish(25'000);
  EXPECT_EQ(t.bucket_ns, 10'000u);
  EXPECT_FALSE(t.widened);  // nobody asked for a width
  EXPECT_EQ(t.counts[0], (std::vector<std::uint64_t>{1, 0, 1}));
}

TEST(Timeline, events_before_the_start_count_in_the_first_bucket) {
  TimelineBuilder b(1000, 100);
  b.add(990, vmx(10));
  b.add(1000, vmx(10));
  b.add(1150, vmx(10));
  const Timeline t = b.finish(1150);
  EXPECT_EQ(t.counts[0], (std::vector<std::uint64_t>{2, 1}));
}

TEST(Timeline, no_exits_no_buckets) {
  const Timeline t = TimelineBuilder(0).finish(10 * kS);
  EXPECT_EQ(t.buckets(), 0u);
  EXPECT_TRUE(t.reasons.empty());
}

}  // namespace
}  // namespace kvmscope::model
