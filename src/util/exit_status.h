// How a child process ended, from its wait status: one description and one exit code for every
// command that runs another (stat, record), so that "killed by SIGKILL" is never reported as
// "exited status 137".
#pragma once

#include <string>

namespace kvmscope::util {

// "SIGKILL", "SIGINT", ...; "signal 99" for a number without a name.
std::string signal_name(int sig);

class ExitStatus {
 public:
  // From a status of waitpid(): WIFEXITED or WIFSIGNALED (stopped/continued are not endings).
  static ExitStatus from_wait_status(int wait_status);
  static ExitStatus exited(int code) { return ExitStatus(code, 0, false); }
  static ExitStatus killed(int sig, bool core_dumped = false) {
    return ExitStatus(0, sig, core_dumped);
  }

  bool signaled() const { return signal_ != 0; }
  int code() const { return code_; }      // the exit code; 0 when signaled
  int signal() const { return signal_; }  // the signal that killed it; 0 when it exited
  // What a shell reports as $?: the exit code, or 128 + the signal.
  int shell_status() const { return signaled() ? 128 + signal_ : code_; }
  // "exited status 7", "killed by SIGKILL", "killed by SIGSEGV (core dumped)".
  std::string describe() const;

  bool operator==(const ExitStatus&) const = default;

 private:
  ExitStatus(int code, int sig, bool core) : code_(code), signal_(sig), core_dumped_(core) {}
  int code_ = 0;
  int signal_ = 0;
  bool core_dumped_ = false;
};

}  // namespace kvmscope::util
