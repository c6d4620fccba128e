// Shared by the live tests: they run the real kvmscope binary as root against this host's
// /dev/kvm, BPF and tracefs, and skip with a one-line reason on a machine that lacks any of them.
#pragma once

#include <gtest/gtest.h>

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

}  // namespace kvmscope::live

#define KS_REQUIRE_LIVE()                                                             \
  do {                                                                                \
    if (auto r = ::kvmscope::live::live_skip_reason(); !r.empty()) GTEST_SKIP() << r; \
  } while (0)
