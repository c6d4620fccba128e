// collect::VmNamer, what `record` names its VMs with: a pid is named once, at its first KVM event
// (never at a process exit), from /proc while it runs, else by the name expected for it; its
// process start is noted only where asked and only when after the recording's start.
#include "collect/vm_namer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/vm_name.h"
#include "support/gone_pid.h"
#include "util/clock.h"
#include "util/proc.h"

namespace {

using namespace kvmscope;

ks_event event(std::uint32_t tgid, std::uint8_t type = KS_EV_EXIT) {
  ks_event e{};
  e.tgid = tgid;
  e.tid = tgid;
  e.type = type;
  return e;
}

using kvmscope::testing::gone_pid;

TEST(VmNamer, names_a_running_vm_once_at_its_first_kvm_event_from_proc) {
  const auto self = static_cast<std::uint32_t>(::getpid());
  collect::VmNamer namer(false, 0);
  const ks_event events[] = {event(self), event(self), event(self)};
  auto met = namer.see(events);
  ASSERT_EQ(met.size(), 1u);
  EXPECT_EQ(met[0].pid, self);
  auto comm = util::read_comm(::getpid());
  auto argv = util::read_cmdline(::getpid());
  ASSERT_TRUE(comm.ok() && argv.ok());
  ASSERT_TRUE(met[0].info.has_value());
  EXPECT_EQ(*met[0].info, (model::VmInfo{model::vm_name_from_cmdline(*argv, *comm), *comm}));
  EXPECT_FALSE(met[0].start_ns.has_value()) << "starts are noted only where asked";
  EXPECT_TRUE(namer.see(events).empty()) << "named once";
}

TEST(VmNamer, a_process_exit_is_no_vm) {
  const auto self = static_cast<std::uint32_t>(::getpid());
  collect::VmNamer namer(false, 0);
  const ks_event exit_only[] = {event(self, KS_EV_PROCESS_EXIT)};
  EXPECT_TRUE(namer.see(exit_only).empty());
  const ks_event then_exit[] = {event(self, KS_EV_PROCESS_EXIT), event(self)};
  EXPECT_EQ(namer.see(then_exit).size(), 1u);
}

TEST(VmNamer, a_vm_already_gone_gets_the_name_expected_for_it_else_none) {
  const std::uint32_t expected = gone_pid(), unknown = gone_pid();
  collect::VmNamer namer(true, 0);
  namer.expect(expected, {"web1", "qemu-system-x86"});
  const ks_event events[] = {event(expected), event(unknown)};
  auto met = namer.see(events);
  ASSERT_EQ(met.size(), 2u);
  EXPECT_EQ(met[0].pid, expected);
  EXPECT_EQ(met[0].info, (model::VmInfo{"web1", "qemu-system-x86"}));
  EXPECT_EQ(met[1].pid, unknown);
  EXPECT_FALSE(met[1].info.has_value()) << "report names it by pid";
  EXPECT_FALSE(met[0].start_ns.has_value()) << "no process, no start";
}

TEST(VmNamer, notes_the_start_of_a_vm_that_started_after_the_recording) {
  const auto self = static_cast<std::uint32_t>(::getpid());
  const ks_event events[] = {event(self)};
  collect::VmNamer since_boot(true, 0);
  auto met = since_boot.see(events);
  ASSERT_EQ(met.size(), 1u);
  ASSERT_TRUE(met[0].start_ns.has_value());
  EXPECT_GT(*met[0].start_ns, 0u);
  EXPECT_LT(*met[0].start_ns, util::monotonic_ns());
  collect::VmNamer since_now(true, util::monotonic_ns());
  met = since_now.see(events);
  ASSERT_EQ(met.size(), 1u);
  EXPECT_FALSE(met[0].start_ns.has_value()) << "running before the recording began";
}

}  // namespace
