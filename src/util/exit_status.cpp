#include "util/exit_status.h"

#include <sys/wait.h>

#include <cstring>

namespace kvmscope::util {

std::string signal_name(int sig) {
  // sigabbrev_np (glibc 2.32): "KILL" for SIGKILL, nullptr for numbers without a name.
  if (const char* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

ExitStatus ExitStatus::from_wait_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) return killed(WTERMSIG(wait_status), WCOREDUMP(wait_status) != 0);
  return exited(WEXITSTATUS(wait_status));
}

std::string ExitStatus::describe() const {
  if (!signaled()) return "exited status " + std::to_string(code_);
  return "killed by " + signal_name(signal_) + (core_dumped_ ? " (core dumped)" : "");
}

}  // namespace kvmscope::util
