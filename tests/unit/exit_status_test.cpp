// util::ExitStatus: how a child ended, described once for stat and record ("killed by SIGKILL",
// never "exited status 137"), with the shell's exit code.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "util/exit_status.h"

namespace kvmscope::util {
namespace {

// The real wait status of a child that runs `body`.
int wait_status_of(void (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(99);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(ExitStatus, an_exit_code_is_exited_status_n) {
  const auto s = ExitStatus::from_wait_status(wait_status_of([] { ::_exit(7); }));
  EXPECT_EQ(s, ExitStatus::exited(7));
  EXPECT_FALSE(s.signaled());
  EXPECT_EQ(s.shell_status(), 7);
  EXPECT_EQ(s.describe(), "exited status 7");
  EXPECT_EQ(ExitStatus::exited(0).describe(), "exited status 0");
}

TEST(ExitStatus, a_signal_is_killed_by_its_name_and_128_plus_n) {
  const auto s = ExitStatus::from_wait_status(wait_status_of([] { ::raise(SIGKILL); }));
  EXPECT_TRUE(s.signaled());
  EXPECT_EQ(s.signal(), SIGKILL);
  EXPECT_EQ(s.shell_status(), 137);
  EXPECT_EQ(s.describe(), "killed by SIGKILL");
  // An exit code of 137 is not a signal: said as it is.
  EXPECT_EQ(ExitStatus::from_wait_status(wait_status_of([] { ::_exit(137); })).describe(),
            "exited status 137");
  EXPECT_EQ(ExitStatus::killed(SIGINT).describe(), "killed by SIGINT");
  EXPECT_EQ(ExitStatus::killed(SIGINT).shell_status(), 130);
}

TEST(ExitStatus, a_core_dump_is_said) {
  // Whether a real crash dumps core depends on the host (core_pattern), so the status is made.
  EXPECT_EQ(ExitStatus::from_wait_status(SIGABRT | WCOREFLAG).describe(),
            "killed by SIGABRT (core dumped)");
  EXPECT_EQ(ExitStatus::from_wait_status(SIGABRT | WCOREFLAG).shell_status(), 134);
  EXPECT_EQ(ExitStatus::killed(SIGSEGV, true).describe(), "killed by SIGSEGV (core dumped)");
}

TEST(ExitStatus, signal_names_come_with_sig_and_unknown_numbers_as_numbers) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGHUP), "SIGHUP");
  EXPECT_EQ(signal_name(0), "signal 0");
  EXPECT_EQ(signal_name(999), "signal 999");
}

}  // namespace
}  // namespace kvmscope::util
