#include "guest/signal_scope.h"

#include <pthread.h>

namespace kvmscope::guest {

namespace {

void ignore_signal(int) {}

}  // namespace

SignalScope::SignalScope() {
  struct sigaction sa {};
  sa.sa_handler = ignore_signal;  // not SIG_IGN: an ignored signal would not interrupt KVM_RUN
  sigemptyset(&sa.sa_mask);
  ::sigaction(kKickSignal, &sa, &old_action_);
  ::pthread_sigmask(SIG_BLOCK, &stop_set(), &old_mask_);
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, kKickSignal);
  ::pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
}

SignalScope::~SignalScope() {
  // A second Ctrl-C during shutdown must not kill us before the report: drop it.
  timespec zero{};
  while (::sigtimedwait(&stop_set(), nullptr, &zero) > 0) {
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  ::sigaction(kKickSignal, &old_action_, nullptr);
}

const sigset_t& SignalScope::stop_set() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    return s;
  }();
  return set;
}

}  // namespace kvmscope::guest
