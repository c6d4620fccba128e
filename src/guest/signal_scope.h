// The signal setup of guest::run, undone when it returns: SIGINT/SIGTERM are blocked (the
// watcher waits for them with sigtimedwait, so they stop the run rather than the process, and
// no vCPU thread is hit by them), and SIGUSR1 gets a no-op handler so that it only interrupts
// KVM_RUN. Threads started meanwhile inherit the mask.
#pragma once

#include <signal.h>

namespace kvmscope::guest {

class SignalScope {
 public:
  // Kicks a vCPU thread out of KVM_RUN, as QEMU's SIG_IPI does.
  static constexpr int kKickSignal = SIGUSR1;

  SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
  ~SignalScope();

  // {SIGINT, SIGTERM}: what stops a run.
  static const sigset_t& stop_set();

 private:
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

}  // namespace kvmscope::guest
