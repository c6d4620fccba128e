// kvmscope top's drill levels: VM list -> VM -> vCPU and back, selections that follow their rows
// when re-sorted, and a VM that leaves while it is open.
#include "tui/top_nav.h"

#include <gtest/gtest.h>

namespace kvmscope::tui {
namespace {

model::Reason vmm(std::uint32_t code) {
  return {model::Level::vmm, model::Isa::none, code};
}

model::ExitStats counted(std::uint64_t n) {
  model::ExitStats s;
  s.count = n;
  return s;
}

// VM 100: vCPU 0 IO, vCPU 1 HLT; VM 200: vCPU 0 MMIO. Counts grow by the given steps per second.
model::Snapshot snap(std::uint64_t second, std::uint64_t vm100_step, std::uint64_t vm200_step) {
  model::Snapshot s;
  s.taken_ns = second * 1000000000ull;
  s.exits[{100, 0, vmm(2)}] = counted(second * vm100_step);
  s.exits[{100, 1, vmm(5)}] = counted(second * vm100_step / 2);
  s.exits[{200, 0, vmm(6)}] = counted(second * vm200_step);
  s.vms[100] = {"web1", "qemu"};
  s.vms[200] = {"db", "qemu"};
  return s;
}

TopModel model_where_web1_is_busier() {
  TopModel m;
  auto alive = [](std::uint32_t) { return true; };
  m.update(snap(1, 1000, 10), alive);
  m.update(snap(2, 1000, 10), alive);
  return m;
}

TEST(TopNav, starts_on_the_vm_list_at_the_first_row) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  EXPECT_FALSE(nav.sync(m, TopSort::rate, {}));
  EXPECT_EQ(nav.level(), TopLevel::vms);
  EXPECT_EQ(nav.rows(), 2u);
  EXPECT_EQ(nav.cursor(), 0u);
}

TEST(TopNav, enters_a_vm_then_a_vcpu_and_goes_back) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db (pid 200)
  ASSERT_TRUE(nav.enter());
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.level(), TopLevel::vm);
  EXPECT_EQ(nav.vm(), 200u);
  EXPECT_EQ(nav.rows(), 1u);  // its one vCPU

  EXPECT_TRUE(nav.back());
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 1u);  // back on db
  nav.move(-1);
  ASSERT_TRUE(nav.enter());
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.vm(), 100u);
  EXPECT_EQ(nav.rows(), 2u);
  nav.move(1);  // vCPU 1 (rate 500/s after vCPU 0's 1,000/s)
  ASSERT_TRUE(nav.enter());
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.level(), TopLevel::vcpu);
  EXPECT_EQ(nav.vcpu(), 1u);
  EXPECT_EQ(nav.rows(), 1u);  // HLT only
  EXPECT_FALSE(nav.enter());  // nothing below a vCPU
  EXPECT_TRUE(nav.back());
  EXPECT_EQ(nav.level(), TopLevel::vm);
  EXPECT_TRUE(nav.back());
  EXPECT_EQ(nav.level(), TopLevel::vms);
  EXPECT_FALSE(nav.back());
}

TEST(TopNav, selection_follows_its_vm_when_the_order_changes) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db, second by rate
  nav.sync(m, TopSort::count, {});
  // By count db is still second (20 < 3,000): same row. Now make db busier.
  TopModel busier;
  auto alive = [](std::uint32_t) { return true; };
  busier.update(snap(1, 1000, 10), alive);
  busier.update(snap(2, 1000, 10000), alive);
  nav.sync(busier, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 0u);  // db moved to the top, the selection with it
  ASSERT_TRUE(nav.enter());
  EXPECT_EQ(nav.vm(), 200u);
}

TEST(TopNav, moves_are_clamped_to_the_rows) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(10);
  EXPECT_EQ(nav.cursor(), 1u);
  nav.move(-10);
  EXPECT_EQ(nav.cursor(), 0u);
  nav.end();
  EXPECT_EQ(nav.cursor(), 1u);
  nav.home();
  EXPECT_EQ(nav.cursor(), 0u);
}

TEST(TopNav, filtered_out_selection_moves_to_what_is_shown) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db
  nav.sync(m, TopSort::rate, *TopFilter::compile("web"));
  EXPECT_EQ(nav.rows(), 1u);
  EXPECT_EQ(nav.cursor(), 0u);
  ASSERT_TRUE(nav.enter());
  EXPECT_EQ(nav.vm(), 100u);
}

TEST(TopNav, selection_keeps_its_vm_through_several_re_sorts) {
  auto alive = [](std::uint32_t) { return true; };
  TopModel m;
  m.update(snap(1, 1000, 10), alive);
  m.update(snap(2, 1000, 10), alive);
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db, second by rate (10/s after web1's 1,500/s)
  // db gets busier than web1, then quieter again: its row moves up and down, the selection with it.
  m.update(snap(3, 1000, 10000), alive);  // web1 1,500/s, db 30,000 - 20 = 29,980/s
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 0u);
  m.update(snap(4, 1000, 10000), alive);  // db: 40,000 - 30,000 = 10,000/s, still first
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 0u);
  model::Snapshot quiet = snap(5, 1000, 10000);
  quiet.exits[{200, 0, vmm(6)}] = counted(40000);  // db makes none: web1 first again
  m.update(quiet, alive);
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 1u);
  ASSERT_TRUE(nav.enter());
  EXPECT_EQ(nav.vm(), 200u);
}

TEST(TopNav, selection_returns_to_its_vm_when_a_filter_stops_hiding_it) {
  const TopModel m = model_where_web1_is_busier();
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db
  nav.sync(m, TopSort::rate, *TopFilter::compile("web"));
  EXPECT_EQ(nav.cursor(), 0u);  // db is hidden: web1, what is shown, stands in
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 1u);  // db again, not web1 at db's old position's neighbour
  ASSERT_TRUE(nav.enter());
  EXPECT_EQ(nav.vm(), 200u);
}

TEST(TopNav, stand_in_for_a_vm_that_left_follows_its_own_row) {
  // Three VMs: web1 1,500/s, db 20/s, cache 5/s. db (selected) leaves; cache stands in at db's
  // position and keeps the selection when it re-sorts above web1.
  bool db_alive = true;
  auto alive = [&](std::uint32_t pid) { return pid != 200 || db_alive; };
  auto three = [](std::uint64_t second, std::uint64_t db_step, std::uint64_t cache_step) {
    model::Snapshot s = snap(second, 1000, db_step);
    s.exits[{300, 0, vmm(2)}] = counted(second * cache_step);
    s.vms[300] = {"cache", "qemu"};
    return s;
  };
  TopModel m(1);
  m.update(three(1, 20, 5), alive);
  m.update(three(2, 20, 5), alive);
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);  // db
  db_alive = false;
  model::Snapshot s3 = three(3, 20, 5);
  s3.exits[{200, 0, vmm(6)}] = counted(40);  // db made none since 2 s and is gone: it leaves
  m.update(s3, alive);
  nav.sync(m, TopSort::rate, {});
  ASSERT_EQ(nav.rows(), 2u);
  EXPECT_EQ(nav.cursor(), 1u);  // cache, at db's position
  model::Snapshot s4 = three(4, 20, 5);
  s4.exits[{200, 0, vmm(6)}] = counted(40);
  s4.exits[{300, 0, vmm(2)}] = counted(100000);  // cache now busier than web1
  m.update(s4, alive);
  nav.sync(m, TopSort::rate, {});
  EXPECT_EQ(nav.cursor(), 0u);
  ASSERT_TRUE(nav.enter());
  EXPECT_EQ(nav.vm(), 300u);
}

TEST(TopNav, open_vm_that_leaves_returns_to_the_list_with_a_message) {
  bool db_alive = true;
  auto alive = [&](std::uint32_t pid) { return pid != 200 || db_alive; };
  TopModel m(1);
  m.update(snap(1, 1000, 10), alive);
  m.update(snap(2, 1000, 10), alive);
  TopNav nav;
  nav.sync(m, TopSort::rate, {});
  nav.move(1);
  ASSERT_TRUE(nav.enter());
  nav.sync(m, TopSort::rate, {});
  ASSERT_EQ(nav.vm(), 200u);
  db_alive = false;
  model::Snapshot s3 = snap(3, 1000, 10);
  s3.exits[{200, 0, vmm(6)}] = counted(20);  // no exits since 2 s
  m.update(s3, alive);
  const auto message = nav.sync(m, TopSort::rate, {});
  ASSERT_TRUE(message);
  EXPECT_EQ(*message, "VM 200 has ended and left the list");
  EXPECT_EQ(nav.level(), TopLevel::vms);
  EXPECT_EQ(nav.rows(), 1u);
}

}  // namespace
}  // namespace kvmscope::tui
