// Starting the traced command: it is forked stopped, so its pid can go into the BPF filter
// before it executes a single instruction of its own, then released to exec.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "util/exit_status.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::cli {

class ChildProcess {
 public:
  // What the command gets when kvmscope dies first: the signal a VMM shuts down cleanly on.
  static constexpr int kParentDeathSignal = SIGTERM;

  // Forks; the child waits until release(). argv[0] is looked up in PATH (no shell).
  static util::Result<ChildProcess> spawn_paused(const std::vector<std::string>& argv);

  pid_t pid() const { return pid_; }
  // Lets the child exec; an exec failure (command not found...) comes back as the error.
  util::Result<void> release();
  // How it ended; nullopt while it runs.
  std::optional<util::ExitStatus> poll_exit();
  // Waits up to timeout_ms for it to end.
  std::optional<util::ExitStatus> wait_exit(int timeout_ms);
  void signal(int sig) const;

 private:
  pid_t pid_ = -1;
  util::Fd go_;     // write end: a byte (or close) releases the child
  util::Fd error_;  // read end: the child's errno if exec fails, EOF when exec succeeded
  std::string name_;
  std::optional<util::ExitStatus> status_;
};

}  // namespace kvmscope::cli
