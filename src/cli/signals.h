// SIGINT/SIGTERM/SIGHUP set a flag instead of killing us, so every command can finish its
// output (nothing gathered is lost on Ctrl-C). Blocking syscalls return EINTR (no SA_RESTART).
#pragma once

namespace kvmscope::cli {

void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked us to stop, 0 if none

}  // namespace kvmscope::cli
