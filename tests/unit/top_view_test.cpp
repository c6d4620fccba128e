// kvmscope top's numbers: rates over an interval from two snapshots, counts since the start or
// a reset, sorting, filtering, VMs appearing and leaving. Every expected number is worked out
// by hand in the comments.
#include "tui/top_view.h"

#include <gtest/gtest.h>

#include <set>

namespace kvmscope::tui {
namespace {

constexpr std::uint64_t kSecond = 1000000000ull;

model::Reason vmm(std::uint32_t code) {
  return {model::Level::vmm, model::Isa::none, code};
}
model::Reason svm(std::uint32_t code) {
  return {model::Level::hardware, model::Isa::svm, code};
}

// `count` exits, each handled in `ns`.
model::ExitStats timed(std::uint64_t count, std::uint64_t ns) {
  model::ExitStats s;
  s.count = count;
  s.timed = count;
  s.time_ns = count * ns;
  s.max_ns = count ? ns : 0;
  s.hist.slots[model::Histogram::slot_of(ns)] = count;
  return s;
}

// VM 100 "web1" (vCPUs 0 and 1) and VM 200 "db"; `at` seconds after the start.
// IO exits take 100 us in the VMM, HLT 1 ms, the SVM io exit 5 ms in KVM, MMIO 10 us.
model::Snapshot snap(double at, std::uint64_t io, std::uint64_t hlt, std::uint64_t hw_io,
                     std::uint64_t mmio) {
  model::Snapshot s;
  s.started_ns = 0;
  s.taken_ns = static_cast<std::uint64_t>(at * kSecond);
  s.exits[{100, 0, vmm(2)}] = timed(io, 100000);
  s.exits[{100, 1, vmm(5)}] = timed(hlt, 1000000);
  s.exits[{100, 0, svm(0x7b)}] = timed(hw_io, 5000000);
  s.exits[{200, 0, vmm(6)}] = timed(mmio, 10000);
  s.vms[100] = {"web1", "qemu-system-x86"};
  s.vms[200] = {"db", "qemu"};
  return s;
}

bool all_alive(std::uint32_t) {
  return true;
}

// A at 1 s, B at 3 s: VM 100 made 1,000 IO, 200 HLT and 40 SVM io exits in between; VM 200
// none (its 5,000 MMIO exits came before A).
TopModel two_snapshots(std::function<bool(std::uint32_t)> alive = all_alive) {
  TopModel m;
  m.update(snap(1, 100, 50, 20, 5000), alive);
  m.update(snap(3, 1100, 250, 60, 5000), alive);
  return m;
}

TEST(TopView, rates_come_from_the_difference_of_two_snapshots) {
  const TopModel m = two_snapshots();
  ASSERT_TRUE(m.has_interval());
  EXPECT_EQ(m.interval_ns(), 2 * kSecond);
  const auto vm = m.vm(100);
  ASSERT_TRUE(vm);
  // 1,000 + 200 + 40 = 1,240 exits in 2 s; 40 hardware, 1,200 to the VMM.
  EXPECT_EQ(vm->stats.interval.count, 1240u);
  EXPECT_EQ(vm->stats.hw_count, 40u);
  EXPECT_EQ(vm->stats.vmm_count, 1200u);
  // Since the start: 1,100 + 250 + 60.
  EXPECT_EQ(vm->stats.total.count, 1410u);
  EXPECT_EQ(vm->vcpus, 2u);
  EXPECT_EQ(vm->info.name, "web1");
  // VMM time: 1,000 x 100 us + 200 x 1 ms = 0.3 s of 2 s x 2 vCPUs = 7.5%.
  EXPECT_EQ(vm->stats.vmm_time_ns, 300000000u);
  EXPECT_DOUBLE_EQ(time_share(vm->stats.vmm_time_ns, m.interval_ns(), vm->vcpus), 0.075);
  // KVM time: 40 x 5 ms = 0.2 s of 4 s = 5%.
  EXPECT_DOUBLE_EQ(time_share(vm->stats.hw_time_ns, m.interval_ns(), vm->vcpus), 0.05);
}

TEST(TopView, first_snapshot_has_counts_but_no_interval) {
  TopModel m;
  m.update(snap(1, 100, 50, 20, 5000), all_alive);
  EXPECT_FALSE(m.has_interval());
  EXPECT_EQ(m.interval_ns(), 0u);
  const auto vm = m.vm(100);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->stats.interval.count, 0u);
  EXPECT_EQ(vm->stats.total.count, 170u);
  EXPECT_EQ(m.since_ns(), kSecond);
}

TEST(TopView, vcpus_and_reasons_split_one_vm) {
  const TopModel m = two_snapshots();
  const auto vcpus = m.vcpus(100, TopSort::rate);
  ASSERT_EQ(vcpus.size(), 2u);
  // vCPU 0: 1,000 IO + 40 SVM io; vCPU 1: 200 HLT.
  EXPECT_EQ(vcpus[0].vcpu, 0u);
  EXPECT_EQ(vcpus[0].stats.interval.count, 1040u);
  EXPECT_EQ(vcpus[1].vcpu, 1u);
  EXPECT_EQ(vcpus[1].stats.interval.count, 200u);

  const auto reasons = m.reasons(100, std::nullopt, TopSort::rate);
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_EQ(reasons[0].reason, vmm(2));
  EXPECT_EQ(reasons[0].stats.interval.count, 1000u);
  EXPECT_EQ(reasons[1].reason, vmm(5));
  EXPECT_EQ(reasons[2].reason, svm(0x7b));
  EXPECT_EQ(reasons[2].stats.total.avg_ns(), 5000000u);

  const auto vcpu1 = m.reasons(100, 1u, TopSort::rate);
  ASSERT_EQ(vcpu1.size(), 1u);
  EXPECT_EQ(vcpu1[0].reason, vmm(5));
  EXPECT_EQ(vcpu1[0].stats.total.count, 250u);
}

TEST(TopView, sorts_by_rate_count_or_time) {
  const TopModel m = two_snapshots();
  auto pids = [&](TopSort sort) {
    std::vector<std::uint32_t> out;
    for (const auto& vm : m.vms(sort)) out.push_back(vm.pid);
    return out;
  };
  // Rate: 620/s against 0/s. Count: 5,000 against 1,410. Time: 0.2 s of KVM time against none.
  EXPECT_EQ(pids(TopSort::rate), (std::vector<std::uint32_t>{100, 200}));
  EXPECT_EQ(pids(TopSort::count), (std::vector<std::uint32_t>{200, 100}));
  EXPECT_EQ(pids(TopSort::time), (std::vector<std::uint32_t>{100, 200}));
  // Reasons by count: IO 1,100 > HLT 250 > SVM io 60.
  const auto by_count = m.reasons(100, std::nullopt, TopSort::count);
  EXPECT_EQ(by_count[0].reason, vmm(2));
  // By time: the SVM io's 0.2 s of KVM time leads, then HLT's 0.2 s of VMM time, then IO's 0.1 s.
  const auto by_time = m.reasons(100, std::nullopt, TopSort::time);
  EXPECT_EQ(by_time[0].reason, svm(0x7b));
  EXPECT_EQ(by_time[1].reason, vmm(5));
  EXPECT_EQ(by_time[2].reason, vmm(2));
}

TEST(TopView, filter_matches_name_process_or_pid_ignoring_case) {
  const TopModel m = two_snapshots();
  auto pids = [&](const std::string& pattern) {
    auto f = TopFilter::compile(pattern);
    EXPECT_TRUE(f) << pattern;
    std::set<std::uint32_t> out;
    for (const auto& vm : m.vms(TopSort::rate, *f)) out.insert(vm.pid);
    return out;
  };
  EXPECT_EQ(pids("WEB"), (std::set<std::uint32_t>{100}));
  EXPECT_EQ(pids("^200$"), (std::set<std::uint32_t>{200}));
  EXPECT_EQ(pids("qemu$"), (std::set<std::uint32_t>{200}));
  EXPECT_EQ(pids("qemu"), (std::set<std::uint32_t>{100, 200}));
  EXPECT_EQ(pids(""), (std::set<std::uint32_t>{100, 200}));
  EXPECT_EQ(pids("nothing"), (std::set<std::uint32_t>{}));
}

TEST(TopView, filter_rejects_an_invalid_regex_with_a_reason) {
  auto f = TopFilter::compile("web(");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("not a regular expression: 'web('"), std::string::npos);
}

TEST(TopView, reset_counts_from_the_latest_snapshot_keeping_rates) {
  TopModel m = two_snapshots();
  m.reset_counts();
  EXPECT_TRUE(m.was_reset());
  EXPECT_EQ(m.vm(100)->stats.total.count, 0u);
  EXPECT_TRUE(m.reasons(100, std::nullopt, TopSort::rate).empty());  // nothing since the reset
  // C at 4 s: 500 more IO exits.
  m.update(snap(4, 1600, 250, 60, 5000), all_alive);
  const auto vm = m.vm(100);
  EXPECT_EQ(vm->stats.interval.count, 500u);
  EXPECT_EQ(vm->stats.total.count, 500u);
  EXPECT_EQ(m.since_ns(), kSecond);  // reset at 3 s, now 4 s
  const auto reasons = m.reasons(100, std::nullopt, TopSort::rate);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].reason, vmm(2));
  EXPECT_EQ(reasons[0].stats.total.count, 500u);
  // The histogram since the reset holds those 500 exits only.
  EXPECT_EQ(reasons[0].stats.total.hist.total(), 500u);
}

TEST(TopView, vm_that_appears_joins_the_list) {
  TopModel m;
  model::Snapshot a = snap(1, 100, 50, 20, 5000);
  a.exits.erase({200, 0, vmm(6)});
  m.update(a, all_alive);
  EXPECT_EQ(m.vms(TopSort::rate).size(), 1u);
  m.update(snap(2, 200, 50, 20, 30), all_alive);
  const auto vm = m.vm(200);
  ASSERT_TRUE(vm);
  // New in this interval: all of its 30 exits are the interval's.
  EXPECT_EQ(vm->stats.interval.count, 30u);
  EXPECT_EQ(m.vms(TopSort::rate).size(), 2u);
}

TEST(TopView, exited_vm_leaves_after_linger_intervals_without_exits) {
  bool db_alive = true;
  auto alive = [&](std::uint32_t pid) { return pid != 200 || db_alive; };
  TopModel m(3);
  m.update(snap(1, 100, 50, 20, 5000), alive);  // update 1: db active
  db_alive = false;
  m.update(snap(2, 200, 50, 20, 5000), alive);  // update 2: 1 quiet interval
  ASSERT_TRUE(m.vm(200));
  EXPECT_FALSE(m.vm(200)->alive);
  m.update(snap(3, 300, 50, 20, 5000), alive);  // update 3: 2 quiet
  EXPECT_TRUE(m.vm(200));
  m.update(snap(4, 400, 50, 20, 5000), alive);  // update 4: 3 quiet: gone
  EXPECT_FALSE(m.vm(200));
  EXPECT_EQ(m.vms(TopSort::rate).size(), 1u);
  // The host totals no longer hold it: only VM 100's 100 IO exits of the last second.
  EXPECT_EQ(m.host().interval.count, 100u);
  EXPECT_EQ(m.host().total.count, 400u + 50 + 20);
}

TEST(TopView, vm_that_left_the_list_is_remembered_as_ended_with_its_totals) {
  bool db_alive = true;
  auto alive = [&](std::uint32_t pid) { return pid != 200 || db_alive; };
  TopModel m(1);
  m.update(snap(1, 100, 50, 20, 5000), alive);
  EXPECT_TRUE(m.ended().empty());
  db_alive = false;
  m.update(snap(2, 200, 50, 20, 5000), alive);  // no exits, process gone: it leaves
  ASSERT_FALSE(m.vm(200));
  const auto ended = m.ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].pid, 200u);
  EXPECT_EQ(ended[0].info.name, "db");
  EXPECT_EQ(ended[0].exits, 5000u);  // its 5,000 MMIO exits since the start
}

TEST(TopView, only_vm_ended_still_counts_as_having_made_exits) {
  bool up = true;
  auto alive = [&](std::uint32_t) { return up; };
  TopModel m(1);
  model::Snapshot a;
  a.taken_ns = kSecond;
  a.exits[{300, 0, vmm(2)}] = timed(2400000, 1000);
  a.vms[300] = {"solo", "kvmscope"};
  m.update(a, alive);
  up = false;
  a.taken_ns = 2 * kSecond;
  m.update(a, alive);
  EXPECT_TRUE(m.vms(TopSort::rate).empty());
  ASSERT_EQ(m.ended().size(), 1u);
  EXPECT_EQ(m.ended()[0].exits, 2400000u);
  // A reset: the ended VM made no exits since, and it is not listed as ended since the reset.
  m.reset_counts();
  EXPECT_TRUE(m.ended().empty());
}

TEST(TopView, ended_vms_are_listed_latest_first_and_a_pid_that_returns_is_no_longer_ended) {
  std::set<std::uint32_t> dead;
  auto alive = [&](std::uint32_t pid) { return !dead.count(pid); };
  TopModel m(1);
  m.update(snap(1, 100, 50, 20, 5000), alive);
  dead = {200};
  m.update(snap(2, 200, 50, 20, 5000), alive);  // db leaves
  dead = {100, 200};
  m.update(snap(3, 200, 50, 20, 5000), alive);  // web1 leaves
  auto ended = m.ended();
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].pid, 100u);
  EXPECT_EQ(ended[0].exits, 270u);  // 200 IO + 50 HLT + 20 SVM io
  EXPECT_EQ(ended[1].pid, 200u);
  dead = {100};  // pid 200 reused by a new VM that makes exits
  m.update(snap(4, 200, 50, 20, 5010), alive);
  ASSERT_TRUE(m.vm(200));
  ended = m.ended();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].pid, 100u);
}

TEST(TopView, live_vm_without_exits_stays) {
  TopModel m(1);
  for (int i = 1; i <= 5; ++i) m.update(snap(i, 100, 50, 20, 5000), all_alive);
  EXPECT_TRUE(m.vm(100));
  EXPECT_TRUE(m.vm(200));
}

TEST(TopView, gone_pid_with_new_exits_comes_back) {
  bool alive_now = false;
  auto alive = [&](std::uint32_t pid) { return pid != 200 || alive_now; };
  TopModel m(1);
  m.update(snap(1, 100, 50, 20, 5000), alive);
  m.update(snap(2, 100, 50, 20, 5000), alive);
  EXPECT_FALSE(m.vm(200));
  alive_now = true;  // the pid was reused by a new VM
  m.update(snap(3, 100, 50, 20, 5010), alive);
  ASSERT_TRUE(m.vm(200));
  EXPECT_EQ(m.vm(200)->stats.interval.count, 10u);
}

TEST(TopView, stats_minus_never_goes_below_zero) {
  const model::ExitStats d = stats_minus(timed(5, 100), timed(7, 100));
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.time_ns, 0u);
  EXPECT_EQ(d.hist.total(), 0u);
}

}  // namespace
}  // namespace kvmscope::tui
