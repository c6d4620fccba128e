// A pid that no process has now: a child that has exited and been reaped (for tests of what a
// VM's name or series becomes once its process is gone).
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

namespace kvmscope::testing {

inline std::uint32_t gone_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<std::uint32_t>(child);
}

}  // namespace kvmscope::testing
