// Shared by the live tests: they run the real kvmscope binary as root against this host's
// /dev/kvm, BPF and tracefs, and skip with a one-line reason on a machine that lacks any of them.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace kvmscope::live {

struct CommandResult {
  int exit_code;  // the exit status, or -signal if the command was killed
  std::string out;
  std::string err;
};

// fork/exec argv (no shell, argv[0] looked up in PATH), capture stdout/stderr, kill after
// timeout_s. stdin is /dev/null; the command runs in its own process group, and the whole group
// is killed (SIGKILL) when it overruns.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_s = 120);

// "" when this machine can run live tests (root, /dev/kvm usable: KVM_CREATE_VM works, BPF
// allowed: BPF_MAP_CREATE succeeds, tracefs kvm events present); else a one-line reason.
std::string live_skip_reason();

const char* kvmscope_bin();  // KS_BIN compile definition

// A scratch file name of this test process: /tmp/kvmscope-live-<pid>-<name>, removed when the
// process exits.
std::string temp_path(const std::string& name);

// The whole file ("" where it cannot be read).
std::string slurp(const std::string& path);

// Waits until process `pid` holds `links` BPF links (attached programs): kvmscope's collector
// attaches sched_process_fork, sched_process_exit, kvm_exit, kvm_entry, kvm_userspace_exit first,
// so 5 means it counts exits to the VMM. False when it ended or timeout_s passed first.
bool wait_for_bpf_links(pid_t pid, int links, int timeout_s = 30);

// A process in the background, in its own process group (signals from the test reach only what
// it addresses), its stdout (and stderr with `with_stderr`) in the file `out_path`; killed
// (SIGKILL) and reaped on destruction if it is still running.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& out_path,
             bool with_stderr = false);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  std::string output() const { return slurp(out_path_); }
  void signal(int sig) const;
  // The exit status, or 128+signal; waits once, later calls return the same.
  int wait();
  // signal(sig) unless it has ended, then wait().
  int stop(int sig);

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::optional<int> status_;
};

}  // namespace kvmscope::live

#define KS_REQUIRE_LIVE()                                                             \
  do {                                                                                \
    if (auto r = ::kvmscope::live::live_skip_reason(); !r.empty()) GTEST_SKIP() << r; \
  } while (0)
