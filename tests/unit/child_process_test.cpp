// ChildProcess::spawn_paused: the traced command's start. The case tested here is the one no
// live test reaches: fork itself failing must leave no descriptor behind (the two pipes it made
// are owned before the fork, so the failed return closes them).
#include "cli/child_process.h"

#include <dirent.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace kvmscope::cli {
namespace {

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

// Exit codes of the probe process, so the parent can say what went wrong.
enum Probe { kLeakFree = 0, kNoLimit = 2, kForked = 3, kWrongError = 4, kLeaked = 5 };

// In a child of the test (its limits and user are its own): as an unprivileged user with
// RLIMIT_NPROC 0 every fork fails with EAGAIN (root is exempt, so root drops to nobody first).
[[noreturn]] void probe() {
  if (::geteuid() == 0) {
    const gid_t nogroup = 65534;
    if (::setgroups(1, &nogroup) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(kNoLimit);
  }
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_NPROC, &none) != 0) ::_exit(kNoLimit);
  const int before = open_fds();
  auto child = ChildProcess::spawn_paused({"true"});
  if (child) ::_exit(kForked);
  if (child.error().message().find("fork") == std::string::npos) ::_exit(kWrongError);
  ::_exit(open_fds() == before ? kLeakFree : kLeaked);
}

TEST(ChildProcess, a_failed_fork_leaves_no_pipe_open) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) probe();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "probe ended by signal " << WTERMSIG(status);
  const int code = WEXITSTATUS(status);
  if (code == kNoLimit) GTEST_SKIP() << "cannot make fork fail here (no RLIMIT_NPROC as nobody)";
  EXPECT_NE(code, kForked) << "fork succeeded under RLIMIT_NPROC 0";
  EXPECT_NE(code, kWrongError) << "the error does not name fork";
  EXPECT_EQ(code, kLeakFree) << "descriptors were left open after the failed fork";
}

}  // namespace
}  // namespace kvmscope::cli
