#include "live_support.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "util/fd.h"

namespace kvmscope::live {

namespace {

// Reads what is there; false at EOF or on an error that will not go away.
bool drain(int fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

std::string check_kvm() {
  auto kvm = util::Fd::open("/dev/kvm", O_RDWR);
  if (!kvm) return kvm.error().message();
  int vm = ::ioctl(kvm->get(), KVM_CREATE_VM, 0UL);
  if (vm < 0) {
    const int err = errno;
    return util::os_error("KVM_CREATE_VM", err).message();
  }
  ::close(vm);
  return "";
}

std::string check_bpf() {
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 8;
  attr.max_entries = 1;
  long fd = ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  if (fd < 0) {
    const int err = errno;
    return util::os_error("bpf(BPF_MAP_CREATE)", err).message();
  }
  ::close(static_cast<int>(fd));
  return "";
}

bool kvm_events_present() {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    std::string path = std::string(dir) + "/events/kvm/kvm_userspace_exit/format";
    if (::access(path.c_str(), R_OK) == 0) return true;
  }
  return false;
}

std::string check_tracefs() {
  if (kvm_events_present()) return "";
  // kvmscope mounts tracefs itself where nothing has (collect/tracefs.cpp), so the check does too:
  // a fresh machine that boots without it mounted must run the live tests, not skip them all.
  if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0 && kvm_events_present())
    return "";
  return "no kvm events in tracefs (is tracefs mounted at /sys/kernel/tracing?)";
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, int timeout_s) {
  CommandResult result{-1, "", ""};
  if (argv.empty()) {
    result.err = "run_command: empty argv";
    return result;
  }
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) < 0 || ::pipe2(err_pipe, O_CLOEXEC) < 0) {
    const int err = errno;
    result.err = util::os_error("pipe2", err).message();
    return result;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    result.err = util::os_error("fork", err).message();
    return result;
  }
  if (pid == 0) {
    // Child: own process group (so a timeout kills all it started), clean signal state.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execvp(args[0], args.data());
    std::string msg = "exec " + argv[0] + ": " + std::strerror(errno) + "\n";
    ssize_t ignored = ::write(2, msg.data(), msg.size());
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before we might need to kill it
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  bool out_open = true, err_open = true, killed = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (out_open && fds[0].revents) out_open = drain(out_pipe[0], result.out);
    if (err_open && fds[1].revents) err_open = drain(err_pipe[0], result.err);
  }
  if (killed) {
    drain(out_pipe[0], result.out);
    drain(err_pipe[0], result.err);
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = -WTERMSIG(status);
  return result;
}

std::string live_skip_reason() {
  static const std::string reason = [] {
    if (::geteuid() != 0) return std::string("live tests need root");
    for (auto check : {check_kvm, check_bpf, check_tracefs})
      if (auto r = check(); !r.empty()) return r;
    return std::string();
  }();
  return reason;
}

const char* kvmscope_bin() {
  return KS_BIN;
}

std::string temp_path(const std::string& name) {
  // Removed when the test process exits (each test runs in its own process), so runs leave no
  // scratch files in /tmp; a test that fails keeps them only while it runs.
  static std::vector<std::string> made;
  static const bool cleanup = [] {
    return std::atexit([] {
             for (const std::string& p : made) ::unlink(p.c_str());
           }) == 0;
  }();
  (void)cleanup;
  std::string path = "/tmp/kvmscope-live-" + std::to_string(::getpid()) + "-" + name;
  made.push_back(path);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_for_bpf_links(pid_t pid, int links, int timeout_s) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd/";
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    int found = 0;
    for (int fd = 0; fd < 256; ++fd) {
      char target[64];
      const ssize_t n = ::readlink((dir + std::to_string(fd)).c_str(), target, sizeof target - 1);
      if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == "anon_inode:bpf_link")
        ++found;
    }
    if (found >= links) return true;
    if (::kill(pid, 0) != 0) return false;
    ::usleep(20'000);
  }
  return false;
}

Background::Background(const std::vector<std::string>& argv, const std::string& out_path,
                       bool with_stderr)
    : out_path_(out_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    if (with_stderr) ::dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Background::~Background() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Background::signal(int sig) const {
  ::kill(pid_, sig);
}

int Background::wait() {
  if (status_) return *status_;
  int st = 0;
  ::waitpid(pid_, &st, 0);
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return *status_;
}

int Background::stop(int sig) {
  if (!status_) signal(sig);
  return wait();
}

}  // namespace kvmscope::live
