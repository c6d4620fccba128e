// model::ThreadTable: which process a thread of a trace belongs to, from what the file says.
#include "model/thread_table.h"

#include <gtest/gtest.h>

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::model {
namespace {

constexpr std::uint64_t kThread = ThreadTable::kCloneThread;

TEST(ThreadTable, puts_a_clone_thread_child_in_its_known_creators_process) {
  ThreadTable t;
  t.leads_process(100);                   // sched_process_exec of the VMM
  t.new_task(100, 101, kThread | 0x100);  // its vCPU thread
  t.new_task(101, 102, kThread);          // a thread made by that thread
  EXPECT_EQ(t.tgid(101), 100u);
  EXPECT_EQ(t.tgid(102), 100u);
  EXPECT_TRUE(t.known(102));
  EXPECT_EQ(t.guessed_threads(), 0u);
}

TEST(ThreadTable, makes_a_child_without_clone_thread_lead_its_own_process) {
  ThreadTable t;
  t.leads_process(100);
  t.new_task(100, 200, 0x11);  // fork(): SIGCHLD only
  EXPECT_EQ(t.tgid(200), 200u);
  EXPECT_TRUE(t.known(200));
}

TEST(ThreadTable, guesses_the_creator_as_process_when_the_creator_is_unknown) {
  ThreadTable t;
  t.new_task(300, 301, kThread);  // recording began after the VMM started
  EXPECT_EQ(t.tgid(301), 300u);
  EXPECT_FALSE(t.known(301));
  EXPECT_EQ(t.guessed_threads(), 1u);
  EXPECT_EQ(t.tgid(301), 300u);
  EXPECT_EQ(t.guessed_threads(), 1u);  // counted once per thread
}

TEST(ThreadTable, counts_an_unknown_thread_as_its_own_process) {
  ThreadTable t;
  EXPECT_EQ(t.tgid(400), 400u);
  EXPECT_EQ(t.tgid_or_self(401), 401u);
  EXPECT_EQ(t.guessed_threads(), 1u);  // tgid_or_self() guesses nothing for later
}

TEST(ThreadTable, forgets_an_exited_thread_whose_id_may_come_back) {
  ThreadTable t;
  t.leads_process(100);
  t.new_task(100, 101, kThread);
  t.set_vcpu(101, 3);
  EXPECT_EQ(t.vcpu(101), 3u);
  t.exited(101);
  EXPECT_EQ(t.vcpu(101), KS_VCPU_UNKNOWN);
  EXPECT_FALSE(t.known(101));
  t.new_task(500, 101, 0);  // reused by an unrelated process
  EXPECT_EQ(t.tgid(101), 101u);
}

TEST(ThreadTable, keeps_the_last_vcpu_of_a_thread) {
  ThreadTable t;
  EXPECT_EQ(t.vcpu(7), KS_VCPU_UNKNOWN);
  t.set_vcpu(7, 0);
  t.set_vcpu(7, 1);
  EXPECT_EQ(t.vcpu(7), 1u);
}

}  // namespace
}  // namespace kvmscope::model
