#include "cli/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "util/clock.h"

namespace kvmscope::cli {

util::Result<ChildProcess> ChildProcess::spawn_paused(const std::vector<std::string>& argv) {
  // Owned at once: every return below, a failed fork included, closes them.
  auto go = util::make_pipe();
  if (!go) return go.error();
  auto err = util::make_pipe();
  if (!err) return err.error();
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    const int fork_errno = errno;
    return util::os_error("fork", fork_errno);
  }
  if (pid == 0) {
    // Should kvmscope die without ending it (kill -9, a crash), the command gets SIGTERM rather
    // than run on unobserved. Kept across exec; its own children are not covered.
    if (::prctl(PR_SET_PDEATHSIG, ChildProcess::kParentDeathSignal) != 0 || ::getppid() != parent)
      ::_exit(127);  // the parent died before the request took effect
    go->write.reset();
    err->read.reset();
    char byte;
    ssize_t n;
    do n = ::read(go->read.get(), &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(127);  // the parent gave up before releasing us
    ::execvp(cargv[0], cargv.data());
    int e = errno;
    (void)!::write(err->write.get(), &e, sizeof e);
    ::_exit(127);
  }
  go->read.reset();
  err->write.reset();
  ChildProcess child;
  child.pid_ = pid;
  child.go_ = std::move(go->write);
  child.error_ = std::move(err->read);
  child.name_ = argv.front();
  return child;
}

util::Result<void> ChildProcess::release() {
  char byte = 1;
  if (::write(go_.get(), &byte, 1) != 1) {
    const int err = errno;
    return util::os_error("releasing the command", err);
  }
  go_.reset();
  int e = 0;
  ssize_t n;
  do n = ::read(error_.get(), &e, sizeof e);
  while (n < 0 && errno == EINTR);
  error_.reset();
  if (n == static_cast<ssize_t>(sizeof e)) {
    wait_exit(1000);
    return util::os_error("cannot run '" + name_ + "'", e,
                          e == ENOENT ? "not found in PATH" : std::string());
  }
  return {};
}

std::optional<util::ExitStatus> ChildProcess::poll_exit() {
  if (status_) return status_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_ && (WIFEXITED(status) || WIFSIGNALED(status)))
    status_ = util::ExitStatus::from_wait_status(status);
  return status_;
}

std::optional<util::ExitStatus> ChildProcess::wait_exit(int timeout_ms) {
  for (int waited = 0;; waited += 10) {
    if (auto s = poll_exit()) return s;
    if (waited >= timeout_ms) return std::nullopt;
    util::sleep_ms(10);
  }
}

void ChildProcess::signal(int sig) const {
  if (!status_) ::kill(pid_, sig);
}

}  // namespace kvmscope::cli
