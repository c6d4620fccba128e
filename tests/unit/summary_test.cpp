#include "model/summary.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace kvmscope::model {
namespace {

Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}
Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

// count exits, each measured at `ns`.
ExitStats timed(std::uint64_t count, std::uint64_t ns) {
  ExitStats s;
  s.count = count;
  s.timed = count;
  s.time_ns = count * ns;
  s.max_ns = count ? ns : 0;
  for (std::uint64_t i = 0; i < count; ++i) s.hist.add(ns);
  return s;
}

ExitStats counted(std::uint64_t count) {
  ExitStats s;
  s.count = count;
  return s;
}

// Two VMs: pid 100 with vCPUs 0 and 1 (hardware and VMM exits), pid 200 with vCPU 0.
Snapshot two_vms() {
  Snapshot s;
  s.exits[{100, 0, svm(0x72)}] = timed(10, 1000);
  s.exits[{100, 0, svm(0x7b)}] = timed(5, 3000);
  s.exits[{100, 1, svm(0x72)}] = timed(3, 2000);
  s.exits[{100, 1, svm(0x78)}] = counted(5);
  s.exits[{100, 0, vmm(2)}] = counted(4);
  s.exits[{100, kUnknownVcpu, vmm(5)}] = counted(1);
  s.exits[{200, 0, svm(0x7b)}] = timed(7, 500);
  s.exits[{200, 0, svm(0x400)}] = counted(0);  // a key without exits is no row
  return s;
}

std::vector<std::pair<Reason, std::uint64_t>> rows_of(const SummaryGroup& g) {
  std::vector<std::pair<Reason, std::uint64_t>> out;
  for (const auto& r : g.rows) out.emplace_back(r.reason, r.stats.count);
  return out;
}

using Rows = std::vector<std::pair<Reason, std::uint64_t>>;

TEST(Summary, groups_by_level_only_without_breakdown) {
  const auto groups = summarize(two_vms(), Breakdown::none);
  ASSERT_EQ(groups.size(), 2u);
  const SummaryGroup& hw = groups[0];
  EXPECT_EQ(hw.level, Level::hardware);
  EXPECT_FALSE(hw.vm_pid.has_value());
  EXPECT_FALSE(hw.vcpu.has_value());
  EXPECT_EQ(rows_of(hw), (Rows{{svm(0x72), 13}, {svm(0x7b), 12}, {svm(0x78), 5}}));
  EXPECT_EQ(hw.total.count, 30u);
  EXPECT_EQ(hw.total.timed, 25u);
  EXPECT_EQ(hw.total.time_ns, 10 * 1000u + 5 * 3000u + 3 * 2000u + 7 * 500u);
  EXPECT_EQ(hw.total.max_ns, 3000u);
  EXPECT_EQ(hw.total.hist.total(), 25u);

  const SummaryGroup& v = groups[1];
  EXPECT_EQ(v.level, Level::vmm);
  EXPECT_EQ(rows_of(v), (Rows{{vmm(2), 4}, {vmm(5), 1}}));
  EXPECT_EQ(v.total.count, 5u);
}

TEST(Summary, merges_the_stats_of_a_reason_across_vms_and_vcpus) {
  const auto groups = summarize(two_vms(), Breakdown::none);
  const ExitStats& io = groups[0].rows[1].stats;  // 0x7b: vm 100 vcpu 0, vm 200 vcpu 0
  EXPECT_EQ(io.count, 12u);
  EXPECT_EQ(io.timed, 12u);
  EXPECT_EQ(io.time_ns, 5 * 3000u + 7 * 500u);
  EXPECT_EQ(io.max_ns, 3000u);
  EXPECT_EQ(io.hist.slots[Histogram::slot_of(3000)], 5u);
  EXPECT_EQ(io.hist.slots[Histogram::slot_of(500)], 7u);
}

TEST(Summary, groups_per_vm_and_breaks_count_ties_by_reason) {
  const auto groups = summarize(two_vms(), Breakdown::per_vm);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].level, Level::hardware);
  EXPECT_EQ(groups[0].vm_pid, 100u);
  EXPECT_FALSE(groups[0].vcpu.has_value());
  // 0x78 and 0x7b both have 5: the lower code first.
  EXPECT_EQ(rows_of(groups[0]), (Rows{{svm(0x72), 13}, {svm(0x78), 5}, {svm(0x7b), 5}}));
  EXPECT_EQ(groups[0].total.count, 23u);
  EXPECT_EQ(groups[1].level, Level::hardware);
  EXPECT_EQ(groups[1].vm_pid, 200u);
  EXPECT_EQ(rows_of(groups[1]), (Rows{{svm(0x7b), 7}}));
  EXPECT_EQ(groups[2].level, Level::vmm);
  EXPECT_EQ(groups[2].vm_pid, 100u);
  EXPECT_EQ(rows_of(groups[2]), (Rows{{vmm(2), 4}, {vmm(5), 1}}));
}

TEST(Summary, groups_per_vcpu_in_level_pid_vcpu_order) {
  const auto groups = summarize(two_vms(), Breakdown::per_vcpu);
  struct Want {
    Level level;
    std::uint32_t pid, vcpu;
    std::uint64_t total;
  };
  const std::vector<Want> want = {{Level::hardware, 100, 0, 15},
                                  {Level::hardware, 100, 1, 8},
                                  {Level::hardware, 200, 0, 7},
                                  {Level::vmm, 100, 0, 4},
                                  {Level::vmm, 100, kUnknownVcpu, 1}};
  ASSERT_EQ(groups.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(groups[i].level, want[i].level) << i;
    EXPECT_EQ(groups[i].vm_pid, want[i].pid) << i;
    EXPECT_EQ(groups[i].vcpu, want[i].vcpu) << i;
    EXPECT_EQ(groups[i].total.count, want[i].total) << i;
  }
  EXPECT_EQ(rows_of(groups[1]), (Rows{{svm(0x78), 5}, {svm(0x72), 3}}));
  EXPECT_EQ(rows_of(groups[2]), (Rows{{svm(0x7b), 7}}));  // the zero-count 0x400 is no row
}

TEST(Summary, drops_reasons_and_groups_without_exits) {
  Snapshot s;
  s.exits[{300, 0, svm(0x72)}] = counted(0);
  s.exits[{300, 0, vmm(2)}] = counted(2);
  const auto groups = summarize(s, Breakdown::per_vcpu);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].level, Level::vmm);
  EXPECT_EQ(groups[0].vm_pid, 300u);
  EXPECT_EQ(groups[0].vcpu, 0u);
}

TEST(Summary, empty_snapshot_has_no_groups) {
  const Snapshot empty;
  for (Breakdown b : {Breakdown::none, Breakdown::per_vm, Breakdown::per_vcpu})
    EXPECT_TRUE(summarize(empty, b).empty());
  EXPECT_EQ(empty.total(Level::hardware), 0u);
  EXPECT_EQ(empty.seconds(), 0.0);
}

TEST(Summary, snapshot_totals_keep_levels_apart) {
  const Snapshot s = two_vms();
  EXPECT_EQ(s.total(Level::hardware), 30u);
  EXPECT_EQ(s.total(Level::vmm), 5u);
}

TEST(Summary, snapshot_seconds_is_the_collection_time) {
  Snapshot s;
  s.started_ns = 1'000'000'000;
  s.taken_ns = 3'500'000'000;
  EXPECT_DOUBLE_EQ(s.seconds(), 2.5);
  s.taken_ns = s.started_ns - 1;  // a clock that went backwards reads as no time
  EXPECT_EQ(s.seconds(), 0.0);
}

TEST(ExitStats, average_is_over_the_timed_exits_only) {
  ExitStats s = timed(4, 1000);
  s.count = 10;  // six exits without an entry after them
  EXPECT_EQ(s.avg_ns(), 1000u);
  EXPECT_EQ(counted(5).avg_ns(), 0u);
  EXPECT_EQ(ExitStats{}.avg_ns(), 0u);
}

TEST(ExitStats, quantiles_never_exceed_the_maximum) {
  const ExitStats one = timed(1, 960);  // slot [960, 1023]: its middle, 991, is above the max
  EXPECT_EQ(one.p50_ns(), 960u);
  EXPECT_EQ(one.p99_ns(), 960u);

  ExitStats mixed = timed(99, 100);  // slot [96, 103]: middle 99
  mixed += timed(1, 4700);           // slot [4608, 5119]: middle 4863
  EXPECT_EQ(mixed.p50_ns(), 99u);
  EXPECT_EQ(mixed.p99_ns(), 99u);  // rank 99 is still a 100
  mixed += timed(1, 4700);
  EXPECT_EQ(mixed.p99_ns(), 4700u);  // rank 100 of 101 is in the 4700s' slot: clamped to max
  EXPECT_EQ(ExitStats{}.p50_ns(), 0u);
}

TEST(ExitStats, plus_equals_sums_and_keeps_the_maximum) {
  ExitStats a = timed(2, 300);
  a += timed(3, 200);
  EXPECT_EQ(a.count, 5u);
  EXPECT_EQ(a.timed, 5u);
  EXPECT_EQ(a.time_ns, 1200u);
  EXPECT_EQ(a.max_ns, 300u);
  EXPECT_EQ(a.hist.total(), 5u);
  EXPECT_EQ(a.avg_ns(), 240u);
}

}  // namespace
}  // namespace kvmscope::model
