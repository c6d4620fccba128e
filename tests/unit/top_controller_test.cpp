// kvmscope top's keys, without a terminal: each key press and what it changes.
#include "tui/top_controller.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace kvmscope::tui {
namespace {

using tui::TopLevel;
using tui::TopSort;

model::Reason vmm(std::uint32_t code) {
  return {model::Level::vmm, model::Isa::none, code};
}

model::ExitStats counted(std::uint64_t n) {
  model::ExitStats s;
  s.count = n;
  return s;
}

model::Snapshot snap(std::uint64_t second) {
  model::Snapshot s;
  s.taken_ns = second * 1000000000ull;
  s.exits[{100, 0, vmm(2)}] = counted(second * 1000);
  s.exits[{100, 1, vmm(5)}] = counted(second * 100);
  s.exits[{200, 0, vmm(6)}] = counted(second * 10);
  s.vms[100] = {"web1", "qemu"};
  s.vms[200] = {"db", "qemu"};
  return s;
}

// Plain seconds only: enough for the tests (the command line's parser is the real one).
std::optional<double> seconds(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end) return std::nullopt;
  return v;
}

class TopControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto alive = [](std::uint32_t) { return true; };
    model_.update(snap(1), alive);
    model_.update(snap(2), alive);
    state_.after_update(model_);
  }
  void press(char c) { state_.handle(Key::of(c), model_); }
  void press(Key::Kind k) { state_.handle(Key::of(k), model_); }
  void type(const std::string& text) {
    for (char c : text) press(c);
  }

  tui::TopModel model_;
  TopController state_{1.0, seconds};
};

TEST_F(TopControllerTest, sort_keys_change_the_order) {
  EXPECT_EQ(state_.sort(), TopSort::rate);
  press('c');
  EXPECT_EQ(state_.sort(), TopSort::count);
  EXPECT_EQ(state_.status_line(), "sorted by count");
  press('t');
  EXPECT_EQ(state_.sort(), TopSort::time);
  press('r');
  EXPECT_EQ(state_.sort(), TopSort::rate);
}

TEST_F(TopControllerTest, enter_drills_down_and_escape_or_backspace_go_back) {
  press(Key::Kind::down);  // db
  press(Key::Kind::enter);
  EXPECT_EQ(state_.nav().level(), TopLevel::vm);
  EXPECT_EQ(state_.nav().vm(), 200u);
  press(Key::Kind::escape);
  EXPECT_EQ(state_.nav().level(), TopLevel::vms);
  press(Key::Kind::up);
  press(Key::Kind::enter);
  EXPECT_EQ(state_.nav().vm(), 100u);
  press('j');  // vCPU 1
  press(Key::Kind::enter);
  EXPECT_EQ(state_.nav().level(), TopLevel::vcpu);
  EXPECT_EQ(state_.nav().vcpu(), 1u);
  press(Key::Kind::backspace);
  EXPECT_EQ(state_.nav().level(), TopLevel::vm);
  press(Key::Kind::left);
  EXPECT_EQ(state_.nav().level(), TopLevel::vms);
}

TEST_F(TopControllerTest, slash_prompts_for_a_filter_and_enter_applies_it) {
  press('/');
  EXPECT_EQ(state_.prompt(), Prompt::filter);
  type("dbx");
  press(Key::Kind::backspace);
  EXPECT_EQ(state_.prompt_text(), "db");
  EXPECT_EQ(state_.status_line(), "filter VMs by name, process or PID (regex, empty: all): db");
  press(Key::Kind::enter);
  EXPECT_EQ(state_.prompt(), Prompt::none);
  EXPECT_EQ(state_.filter().pattern(), "db");
  EXPECT_EQ(state_.status_line(), "showing VMs matching /db/");
  EXPECT_EQ(state_.nav().rows(), 1u);
  // Typed keys went into the prompt, not to the commands: 'd' did not open the interval prompt.
  EXPECT_DOUBLE_EQ(state_.interval_s(), 1.0);

  press('/');
  EXPECT_EQ(state_.prompt_text(), "db");  // starts from the current filter
  press(Key::Kind::backspace);
  press(Key::Kind::backspace);
  press(Key::Kind::enter);
  EXPECT_TRUE(state_.filter().empty());
  EXPECT_EQ(state_.nav().rows(), 2u);
}

TEST_F(TopControllerTest, invalid_filter_keeps_the_old_one_and_says_why) {
  press('/');
  type("[web");
  press(Key::Kind::enter);
  EXPECT_TRUE(state_.filter().empty());
  EXPECT_EQ(state_.status_line().rfind("not a regular expression: '[web'", 0), 0u);
}

TEST_F(TopControllerTest, escape_cancels_a_prompt) {
  press('/');
  type("web");
  press(Key::Kind::escape);
  EXPECT_EQ(state_.prompt(), Prompt::none);
  EXPECT_TRUE(state_.filter().empty());
  EXPECT_EQ(state_.nav().level(), TopLevel::vms);
}

TEST_F(TopControllerTest, p_and_space_toggle_pause) {
  press('p');
  EXPECT_TRUE(state_.paused());
  press(' ');
  EXPECT_FALSE(state_.paused());
}

TEST_F(TopControllerTest, plus_and_minus_step_the_interval) {
  press('+');
  EXPECT_DOUBLE_EQ(state_.interval_s(), 2.0);
  EXPECT_EQ(state_.status_line(), "refreshing every 2.0 s");
  press('-');
  press('-');
  EXPECT_DOUBLE_EQ(state_.interval_s(), 0.5);
  for (int i = 0; i < 10; ++i) press('-');
  EXPECT_DOUBLE_EQ(state_.interval_s(), 0.1);  // the shortest step
  for (int i = 0; i < 20; ++i) press('+');
  EXPECT_DOUBLE_EQ(state_.interval_s(), 60.0);
}

TEST_F(TopControllerTest, d_reads_an_interval_and_refuses_one_out_of_range) {
  press('d');
  EXPECT_EQ(state_.prompt(), Prompt::interval);
  type("2.5");
  press(Key::Kind::enter);
  EXPECT_DOUBLE_EQ(state_.interval_s(), 2.5);
  press('d');
  type("0.01");
  press(Key::Kind::enter);
  EXPECT_DOUBLE_EQ(state_.interval_s(), 2.5);
  EXPECT_EQ(state_.status_line(), "'0.01' is not an interval between 0.1 s and 1 h");
}

TEST_F(TopControllerTest, z_resets_the_counts) {
  EXPECT_EQ(model_.vm(100)->stats.total.count, 2200u);
  press('z');
  EXPECT_EQ(model_.vm(100)->stats.total.count, 0u);
  EXPECT_TRUE(model_.was_reset());
}

TEST_F(TopControllerTest, question_mark_shows_help_until_any_key) {
  press('?');
  EXPECT_TRUE(state_.help_shown());
  press('q');  // closes the help, does not quit
  EXPECT_FALSE(state_.help_shown());
  EXPECT_FALSE(state_.quit());
  press('q');
  EXPECT_TRUE(state_.quit());
}

void tick(TopController& state, int n) {
  for (int i = 0; i < n; ++i) state.tick();
}

TEST_F(TopControllerTest, message_clears_after_three_seconds_of_ticks) {
  press('c');  // refreshing every 1 s: the message lives 3 ticks
  tick(state_, 2);
  EXPECT_EQ(state_.status_line(), "sorted by count");
  tick(state_, 1);
  EXPECT_EQ(state_.status_line(), "");
}

TEST_F(TopControllerTest, message_lifetime_in_ticks_follows_the_interval) {
  press('-');
  press('-');  // 0.2 s: 15 ticks make 3 s
  EXPECT_EQ(state_.status_line(), "refreshing every 0.2 s");
  tick(state_, 14);
  EXPECT_EQ(state_.status_line(), "refreshing every 0.2 s");
  tick(state_, 1);
  EXPECT_EQ(state_.status_line(), "");
  for (int i = 0; i < 12; ++i) press('+');  // 60 s: one tick is longer than 3 s already
  EXPECT_EQ(state_.status_line(), "refreshing every 60 s");
  tick(state_, 1);
  EXPECT_EQ(state_.status_line(), "");
}

TEST_F(TopControllerTest, next_key_clears_a_message_and_ticks_leave_a_prompt_alone) {
  press('c');
  press('j');
  EXPECT_EQ(state_.status_line(), "");
  press('/');
  type("w");
  tick(state_, 10);
  EXPECT_EQ(state_.status_line(), "filter VMs by name, process or PID (regex, empty: all): w");
  press(Key::Kind::enter);
  EXPECT_EQ(state_.status_line(), "showing VMs matching /w/");
  tick(state_, 3);
  EXPECT_EQ(state_.status_line(), "");
}

TEST_F(TopControllerTest, message_that_a_vm_left_expires_too) {
  press(Key::Kind::down);
  press(Key::Kind::enter);  // db
  model::Snapshot s = snap(3);
  s.exits[{200, 0, vmm(6)}] = counted(20);  // no exits since 2 s
  tui::TopModel m(1);
  auto db_gone = [](std::uint32_t pid) { return pid != 200; };
  m.update(snap(1), db_gone);
  m.update(snap(2), db_gone);
  m.update(s, db_gone);
  state_.after_update(m);
  EXPECT_EQ(state_.status_line(), "VM 200 has ended and left the list");
  tick(state_, 3);
  EXPECT_EQ(state_.status_line(), "");
}

TEST_F(TopControllerTest, unknown_key_says_where_help_is) {
  press('x');
  EXPECT_EQ(state_.status_line(), "unknown key 'x' (? shows the keys)");
  press(Key::Kind::resize);  // a resize only redraws: the message stays
  EXPECT_EQ(state_.status_line(), "unknown key 'x' (? shows the keys)");
}

// One VM with one vCPU and two reasons: `io` IO and `hlt` HLT exits by `second` seconds in.
model::Snapshot one_vcpu(std::uint64_t second, std::uint64_t io, std::uint64_t hlt) {
  model::Snapshot s;
  s.taken_ns = second * 1000000000ull;
  s.exits[{100, 0, vmm(2)}] = counted(io);
  s.exits[{100, 0, vmm(5)}] = counted(hlt);
  s.vms[100] = {"web1", "qemu"};
  return s;
}

TEST(TopControllerSelection, selected_reason_stays_selected_while_the_reasons_re_sort) {
  auto alive = [](std::uint32_t) { return true; };
  tui::TopModel m;
  m.update(one_vcpu(1, 1000, 100), alive);
  m.update(one_vcpu(2, 2000, 200), alive);  // IO 1,000/s, HLT 100/s
  TopController state(1.0, seconds);
  state.after_update(m);
  state.handle(Key::of(Key::Kind::enter), m);  // web1
  state.handle(Key::of(Key::Kind::enter), m);  // vCPU 0
  state.handle(Key::of('j'), m);               // HLT, the second row
  ASSERT_EQ(state.nav().cursor(), 1u);
  m.update(one_vcpu(3, 2100, 5200), alive);  // HLT 5,000/s, IO 100/s: HLT first
  state.after_update(m);
  EXPECT_EQ(state.nav().cursor(), 0u);
  m.update(one_vcpu(4, 12100, 5300), alive);  // IO first again
  state.after_update(m);
  EXPECT_EQ(state.nav().cursor(), 1u);
}

TEST(TopControllerSelection, selected_reason_is_selected_again_after_a_reset_hid_it) {
  auto alive = [](std::uint32_t) { return true; };
  tui::TopModel m;
  m.update(one_vcpu(1, 1000, 100), alive);
  m.update(one_vcpu(2, 2000, 200), alive);
  TopController state(1.0, seconds);
  state.after_update(m);
  state.handle(Key::of(Key::Kind::enter), m);
  state.handle(Key::of(Key::Kind::enter), m);
  state.handle(Key::of('j'), m);  // HLT
  state.handle(Key::of('z'), m);  // no reason has a count since the reset: no rows
  EXPECT_EQ(state.nav().rows(), 0u);
  m.update(one_vcpu(3, 3000, 300), alive);  // both again; IO (1,000/s) before HLT (100/s)
  state.after_update(m);
  ASSERT_EQ(state.nav().rows(), 2u);
  EXPECT_EQ(state.nav().cursor(), 1u);  // still HLT, not the first row
}

TEST(TopInterval, text_has_one_or_two_decimals_below_ten_seconds) {
  EXPECT_EQ(interval_text(1.0), "1.0 s");
  EXPECT_EQ(interval_text(0.25), "0.25 s");
  EXPECT_EQ(interval_text(2.5), "2.5 s");
  EXPECT_EQ(interval_text(30), "30 s");
}

}  // namespace
}  // namespace kvmscope::tui
