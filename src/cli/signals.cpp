#include "cli/signals.h"

#include <signal.h>

#include <atomic>

namespace kvmscope::cli {

namespace {
std::atomic<int> g_stop_signal{0};
void on_stop(int sig) {
  g_stop_signal.store(sig);
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

bool stop_requested() {
  return g_stop_signal.load() != 0;
}
int stop_signal() {
  return g_stop_signal.load();
}

}  // namespace kvmscope::cli
