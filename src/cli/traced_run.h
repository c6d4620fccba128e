// What stat and record share: which processes to trace (-- CMD, -p, -a, --duration), the checks
// before anything is loaded, and starting and ending the traced command.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "cli/child_process.h"
#include "cli/option_cursor.h"
#include "collect/exit_collector.h"
#include "model/reason_catalog.h"
#include "util/result.h"

namespace kvmscope::cli {

struct TraceTarget {
  std::vector<std::string> command;  // after "--"
  std::vector<pid_t> pids;           // -p
  bool all = false;                  // -a
  std::optional<double> duration_s;  // -d
  bool share_tracepoints = false;    // --share-tracepoints
  bool wait_vm = false;              // --wait-vm (stat, record): -p PIDs need no VM open yet

  // "command: kvmscope guest --io 5", "pid 4242", "pids 1,2", "all VMs on this host"
  std::string describe() const;
};

// Consumes -p/--pid, -a/--all, -d/--duration, --share-tracepoints at the cursor when it is one of
// them: `consumed`, else `not_a_target_option` (the cursor is left for the command's own).
enum class TargetOption { consumed, not_a_target_option };
util::Result<TargetOption> parse_target_option(OptionCursor& cursor, TraceTarget& target);
// --max-entries N: distinct counters the kernel side keeps (1..16777216).
util::Result<std::uint32_t> parse_max_entries(OptionCursor& cursor);

// After the options: takes "-- CMD" and checks that exactly one of CMD, -p, -a was given.
util::Result<void> finish_target(const OptionCursor& cursor, TraceTarget& target);

// Privileges, the pids exist, tracefs is there (mounted if need be) and has the kvm events.
// Returns the tracefs root.
util::Result<std::string> preflight(const TraceTarget& target);

// For stat and record, which end when their -p processes do: each must hold a KVM VM open, or
// they would wait for exits that never come ("process 1 (systemd) has no KVM VM open"). With
// --wait-vm a note on stderr ("kvmscope WHO: note: ...") says that they wait instead.
util::Result<void> check_pids_have_vms(const TraceTarget& target, const char* who);

// The running kernel's exit reason names from tracefs at `tracefs_root`; where they cannot be
// read, a warning on stderr ("kvmscope COMMAND: warning: ...") and the built-in names.
model::ReasonCatalog live_reason_catalog(const std::string& tracefs_root, const char* command);

// One traced run: the command is forked stopped, put into the BPF filter, then released.
class TracedRun {
 public:
  struct StartError {
    util::Error error;
    int status;  // the exit status to end with: 127 when the command could not be executed
  };

  // Starts the command paused, adds it (and -p pids) to the collector and names it there before
  // it runs (so a recording has its name); then lets it run.
  util::Result<void, StartError> start(const TraceTarget& target,
                                       collect::ExitCollector& collector);
  std::optional<pid_t> command_pid() const;
  std::uint64_t started_ns() const { return started_ns_; }

  // A stop signal, the command's exit, all pids gone, or the duration over.
  bool should_stop();
  // Ends the command if it still runs (it gets the stop signal, or SIGTERM after --duration or
  // an error; SIGKILL if it has not ended kGraceMs later: a command that ignores the signal is
  // waited for that long) and returns the exit status for kvmscope: the command's as a shell
  // reports it (code, or 128 + signal), or 0 without a command. A command killed by a signal
  // is said so on stderr ("kvmscope stat: the command (pid 42) was killed by SIGKILL").
  int finish();
  std::optional<util::ExitStatus> command_status() const { return status_; }

  // `who` names the subcommand in messages ("stat"). Leaving without finish() (an error) ends
  // the command too: it never outlives kvmscope.
  explicit TracedRun(const char* who) : who_(who) {}
  TracedRun(const TracedRun&) = delete;
  TracedRun& operator=(const TracedRun&) = delete;
  ~TracedRun();

  static constexpr int kGraceMs = 5000;

 private:
  const char* who_;
  const TraceTarget* target_ = nullptr;
  std::optional<ChildProcess> child_;
  std::optional<util::ExitStatus> status_;
  bool finished_ = false;
  std::uint64_t started_ns_ = 0;
  std::uint64_t deadline_ns_ = 0;
};

}  // namespace kvmscope::cli
