// Boot summaries: start (command started marker or first event), end (shutdown or process
// exit), phases cut by --mark and recorded markers, exits counted per phase and level.
#include "model/boot.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace kvmscope::model {
namespace {

constexpr Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}
constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

constexpr std::uint64_t kS = 1'000'000'000;
constexpr std::uint32_t kVm = 42;

TEST(Boot, phases_between_marks_from_the_command_start_to_shutdown) {
  // The command starts at 10 s; --mark 1=kernel --mark 3=userspace.
  BootTracker b(10 * kS, {}, {{1 * kS, "kernel"}, {3 * kS, "userspace"}});
  b.event(kVm, 10 * kS + kS / 2);
  b.exit(kVm, 10 * kS + kS / 2, svm(0x7b));  // (start): first exit after 0.5 s
  b.exit(kVm, 11 * kS, svm(0x72));           // kernel (a cut belongs to the phase it begins)
  b.exit(kVm, 12 * kS, svm(0x72));
  b.exit(kVm, 12 * kS, vmm(2));
  b.exit(kVm, 13 * kS + 1, svm(0x78));  // userspace
  b.exit(kVm, 14 * kS, vmm(8));
  b.shutdown(kVm, 14 * kS);             // the end
  b.exit(kVm, 14 * kS + 1, svm(0x72));  // after the end: not boot
  b.process_exit(kVm, 15 * kS);         // later: the first end stays
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 1u);
  const BootSummary& s = boots[0];
  EXPECT_EQ(s.vm_pid, kVm);
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(s.start_ns, 10 * kS);
  EXPECT_EQ(s.end_by, BootEnd::shutdown);
  EXPECT_EQ(s.end_ns, 14 * kS);
  EXPECT_EQ(*s.first_exit_ns - s.start_ns, kS / 2);
  EXPECT_EQ(s.hardware_exits, 4u);
  EXPECT_EQ(s.vmm_exits, 2u);
  ASSERT_EQ(s.phases.size(), 3u);
  EXPECT_EQ(s.phases[0].label, "(start)");
  EXPECT_EQ(s.phases[0].begin_ns, 10 * kS);
  EXPECT_EQ(s.phases[0].end_ns, 11 * kS);
  EXPECT_EQ(s.phases[0].hardware_exits, 1u);
  EXPECT_EQ(s.phases[1].label, "kernel");
  EXPECT_EQ(s.phases[1].hardware_exits, 2u);
  EXPECT_EQ(s.phases[1].vmm_exits, 1u);
  EXPECT_EQ(s.phases[1].reasons.at(svm(0x72)), 2u);
  EXPECT_EQ(s.phases[2].label, "userspace");
  EXPECT_EQ(s.phases[2].begin_ns, 13 * kS);
  EXPECT_EQ(s.phases[2].end_ns, 14 * kS);
  EXPECT_EQ(s.phases[2].hardware_exits, 1u);
  EXPECT_EQ(s.phases[2].vmm_exits, 1u);
}

TEST(Boot, without_a_start_marker_the_first_event_starts_and_the_last_event_ends) {
  BootTracker b(std::nullopt, {}, {});
  b.event(kVm, 5 * kS);
  b.exit(kVm, 6 * kS, svm(0x72));
  b.event(kVm, 7 * kS);
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 1u);
  EXPECT_EQ(boots[0].start_from, BootStart::first_event);
  EXPECT_EQ(boots[0].start_ns, 5 * kS);
  EXPECT_EQ(boots[0].end_by, BootEnd::none);
  EXPECT_EQ(boots[0].end_ns, 7 * kS);
  EXPECT_FALSE(boots[0].complete());
  ASSERT_EQ(boots[0].phases.size(), 1u);
  EXPECT_EQ(boots[0].phases[0].end_ns, 7 * kS);
}

TEST(Boot, a_mark_at_zero_names_the_first_phase_and_one_after_the_end_is_dropped) {
  // Recorded markers count too (other than the start itself); --mark 9 lies after the exit.
  BootTracker b(0, {{0, std::string(kCommandStartedLabel)}, {2 * kS, "login"}},
                {{0, "firmware"}, {9 * kS, "late"}});
  b.exit(kVm, 1 * kS, svm(0x72));
  b.exit(kVm, 3 * kS, svm(0x72));
  b.process_exit(kVm, 4 * kS);
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 1u);
  EXPECT_EQ(boots[0].end_by, BootEnd::process_exit);
  ASSERT_EQ(boots[0].phases.size(), 2u);
  EXPECT_EQ(boots[0].phases[0].label, "firmware");
  EXPECT_EQ(boots[0].phases[0].hardware_exits, 1u);
  EXPECT_EQ(boots[0].phases[1].label, "login");
  EXPECT_EQ(boots[0].phases[1].end_ns, 4 * kS);
  EXPECT_EQ(boots[0].phases[1].hardware_exits, 1u);
}

TEST(Boot, top_reasons_of_a_phase_are_of_one_level_most_first) {
  BootPhase p;
  p.reasons = {{svm(0x72), 5}, {svm(0x7b), 9}, {svm(0x78), 1}, {vmm(2), 50}};
  const auto top = top_reasons(p, Level::hardware, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], std::make_pair(svm(0x7b), std::uint64_t{9}));
  EXPECT_EQ(top[1], std::make_pair(svm(0x72), std::uint64_t{5}));
}

TEST(Boot, one_summary_per_vm_in_pid_order) {
  BootTracker b(std::nullopt, {}, {});
  b.exit(7, 2, svm(0x72));
  b.exit(3, 1, svm(0x72));
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 2u);
  EXPECT_EQ(boots[0].vm_pid, 3u);
  EXPECT_EQ(boots[1].vm_pid, 7u);
}

TEST(Boot, a_process_exit_alone_makes_no_vm) {
  // sh and true exit during a recording of `sh -c 'true; guest'`: no KVM event, no VM.
  BootTracker b(0, {}, {});
  b.process_exit(200, 1 * kS);
  b.exit(kVm, 2 * kS, svm(0x72));
  b.process_exit(kVm, 3 * kS);
  b.process_exit(201, 4 * kS);
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 1u);
  EXPECT_EQ(boots[0].vm_pid, kVm);
  EXPECT_EQ(boots[0].end_by, BootEnd::process_exit);
  EXPECT_EQ(boots[0].end_ns, 3 * kS);
}

TEST(Boot, a_vm_whose_process_start_was_recorded_starts_there_and_is_complete) {
  // A whole-host recording: no command start; the VM's process began at 2 s, after the
  // recording did, and ended at 6 s. A VM already running has only its first event.
  BootTracker b(std::nullopt, {}, {{1 * kS, "late"}});
  b.process_started(kVm, 2 * kS);
  b.exit(kVm, 2 * kS + kS / 2, svm(0x72));
  b.exit(kVm, 4 * kS, svm(0x72));
  b.process_exit(kVm, 6 * kS);
  b.exit(7, 5 * kS, svm(0x72));
  b.process_exit(7, 6 * kS);
  const auto boots = b.finish();
  ASSERT_EQ(boots.size(), 2u);
  const BootSummary& old = boots[0];
  EXPECT_EQ(old.vm_pid, 7u);
  EXPECT_EQ(old.start_from, BootStart::first_event);
  EXPECT_FALSE(old.complete());
  const BootSummary& s = boots[1];
  EXPECT_EQ(s.start_from, BootStart::process_started);
  EXPECT_EQ(s.start_ns, 2 * kS);
  EXPECT_EQ(s.end_ns, 6 * kS);
  EXPECT_EQ(*s.first_exit_ns - s.start_ns, kS / 2);
  EXPECT_TRUE(s.complete());
  ASSERT_EQ(s.phases.size(), 2u);  // --mark is relative to the VM's start
  EXPECT_EQ(s.phases[1].label, "late");
  EXPECT_EQ(s.phases[1].begin_ns, 3 * kS);
  EXPECT_EQ(s.phases[1].hardware_exits, 1u);
}

TEST(Boot, process_started_labels_round_trip_and_others_are_not_ones) {
  EXPECT_EQ(process_started_label(4242), "process 4242 started");
  EXPECT_EQ(process_started_pid(process_started_label(4242)), 4242u);
  EXPECT_EQ(process_started_pid(kCommandStartedLabel), std::nullopt);
  EXPECT_EQ(process_started_pid("process x started"), std::nullopt);
  EXPECT_EQ(process_started_pid("process 12 started later"), std::nullopt);
  EXPECT_EQ(process_started_pid("process  started"), std::nullopt);
}

}  // namespace
}  // namespace kvmscope::model
