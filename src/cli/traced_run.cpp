#include "cli/traced_run.h"

#include <signal.h>

#include <cstdio>

#include "cli/numbers.h"
#include "cli/signals.h"
#include "collect/tracefs.h"
#include "model/vm_name.h"
#include "util/clock.h"
#include "util/privileges.h"
#include "util/proc.h"

namespace kvmscope::cli {

namespace {

util::Result<std::vector<pid_t>> parse_pids(const OptionCursor& cursor, std::string_view text) {
  std::vector<pid_t> pids;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    auto n = parse_u64(item);
    if (!n || *n == 0 || *n > 4194304)
      return cursor.usage("-p: '" + std::string(item) + "' is not a process id");
    pids.push_back(static_cast<pid_t>(*n));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (pids.empty()) return cursor.usage("-p: expected PID[,PID...]");
  return pids;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string TraceTarget::describe() const {
  if (all) return "all VMs on this host";
  if (!pids.empty()) {
    std::string s = pids.size() == 1 ? "pid " : "pids ";
    for (std::size_t i = 0; i < pids.size(); ++i) s += (i ? "," : "") + std::to_string(pids[i]);
    return s;
  }
  std::string s = "command:";
  for (const auto& a : command) s += " " + a;
  return s;
}

util::Result<TargetOption> parse_target_option(OptionCursor& cursor, TraceTarget& target) {
  const std::string_view name = cursor.name();
  if (name == "-a" || name == "--all") {
    target.all = true;
    return TargetOption::consumed;
  }
  if (name == "--share-tracepoints") {
    target.share_tracepoints = true;
    return TargetOption::consumed;
  }
  if (name == "-p" || name == "--pid") {
    auto v = cursor.value();
    if (!v) return v.error();
    auto pids = parse_pids(cursor, *v);
    if (!pids) return pids.error();
    target.pids.insert(target.pids.end(), pids->begin(), pids->end());
    return TargetOption::consumed;
  }
  if (name == "-d" || name == "--duration") {
    auto v = cursor.value();
    if (!v) return v.error();
    auto s = parse_seconds(*v);
    if (!s || *s <= 0) return cursor.usage(std::string(name) + ": '" + *v + "' is not a duration");
    target.duration_s = *s;
    return TargetOption::consumed;
  }
  return TargetOption::not_a_target_option;
}

util::Result<std::uint32_t> parse_max_entries(OptionCursor& cursor) {
  auto v = cursor.value();
  if (!v) return v.error();
  auto n = parse_u64(*v);
  if (!n || *n == 0 || *n > (1u << 24))
    return cursor.usage("--max-entries: expected 1..16777216, got '" + *v + "'");
  return static_cast<std::uint32_t>(*n);
}

util::Result<void> finish_target(const OptionCursor& cursor, TraceTarget& target) {
  if (cursor.saw_double_dash()) {
    if (cursor.rest().empty()) return cursor.usage("nothing after '--': which command should run?");
    target.command = cursor.rest();
  }
  int modes = !target.command.empty() + !target.pids.empty() + target.all;
  if (modes == 0) return cursor.usage("say what to trace: -- COMMAND, -p PID or -a");
  if (modes > 1) return cursor.usage("choose one of -- COMMAND, -p PID and -a");
  if (target.wait_vm && target.pids.empty()) return cursor.usage("--wait-vm goes with -p PID");
  return {};
}

util::Result<std::string> preflight(const TraceTarget& target) {
  if (!util::can_trace_with_bpf())
    return util::plain_error(
        "permission denied: tracing needs root (or CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH)",
        "run it with sudo");
  for (pid_t pid : target.pids)
    if (!util::process_exists(pid))
      return util::plain_error("no process with PID " + std::to_string(pid));
  auto root = collect::tracefs_root();
  if (!root) return root.error();
  if (auto kvm = collect::require_kvm_events(*root); !kvm) return kvm.error();
  return root;
}

util::Result<void> check_pids_have_vms(const TraceTarget& target, const char* who) {
  for (pid_t pid : target.pids) {
    auto vm = util::kvm_vm_state(pid);
    // Unreadable (it ended meanwhile, or a hardened /proc): nothing to say, tracing tells.
    if (!vm || *vm == util::KvmVmState::open) continue;
    auto comm = util::read_comm(pid);
    const std::string process =
        "process " + std::to_string(pid) + (comm ? " (" + *comm + ")" : std::string());
    if (!target.wait_vm)
      return util::plain_error(process + " has no KVM VM open",
                               "give the VMM's pid, or --wait-vm to wait for it to create one");
    std::fprintf(stderr,
                 "kvmscope %s: note: %s has no KVM VM open yet; waiting for its exits (and "
                 "those of what it forks from now on)\n",
                 who, process.c_str());
  }
  return {};
}

model::ReasonCatalog live_reason_catalog(const std::string& tracefs_root, const char* command) {
  auto catalog = model::ReasonCatalog::from_tracefs(tracefs_root);
  if (catalog) return std::move(*catalog);
  std::fprintf(stderr, "kvmscope %s: warning: %s; using built-in reason names\n", command,
               catalog.error().message().c_str());
  return model::ReasonCatalog::builtin();
}

util::Result<void, TracedRun::StartError> TracedRun::start(const TraceTarget& target,
                                                           collect::ExitCollector& collector) {
  target_ = &target;
  install_stop_handlers();
  if (!target.command.empty()) {
    auto spawned = ChildProcess::spawn_paused(target.command);
    if (!spawned) return StartError{spawned.error(), 1};
    child_.emplace(std::move(*spawned));
    if (auto r = collector.add_target(child_->pid()); !r) return StartError{r.error(), 1};
    const std::string comm = basename_of(target.command.front()).substr(0, 15);
    collector.name_vm(child_->pid(), {model::vm_name_from_cmdline(target.command, comm), comm});
    started_ns_ = util::monotonic_ns();
    if (auto r = child_->release(); !r) return StartError{r.error(), 127};
  } else {
    started_ns_ = util::monotonic_ns();
  }
  for (pid_t pid : target.pids)
    if (auto r = collector.add_target(pid); !r) return StartError{r.error(), 1};
  if (target.duration_s)
    deadline_ns_ = started_ns_ + static_cast<std::uint64_t>(*target.duration_s * 1e9);
  return {};
}

std::optional<pid_t> TracedRun::command_pid() const {
  if (!child_) return std::nullopt;
  return child_->pid();
}

bool TracedRun::should_stop() {
  if (stop_requested()) return true;
  if (child_ && (status_ = child_->poll_exit())) return true;
  if (!target_->pids.empty()) {
    bool any_alive = false;
    for (pid_t pid : target_->pids) any_alive = any_alive || util::process_exists(pid);
    if (!any_alive) return true;
  }
  return deadline_ns_ && util::monotonic_ns() >= deadline_ns_;
}

int TracedRun::finish() {
  if (!child_) return 0;
  finished_ = true;
  const int sig = stop_requested() ? stop_signal() : SIGTERM;
  const int pid = static_cast<int>(child_->pid());
  if (!status_ && !(status_ = child_->poll_exit())) {
    // Stopped by a signal, the duration or an error: the command gets the same signal (Ctrl-C
    // from a terminal reached it already; a `kill` sent to kvmscope alone did not). One that
    // ignores it is waited for, then killed: its status is what kvmscope exits with.
    child_->signal(sig);
    status_ = child_->wait_exit(kGraceMs);
    if (!status_) {
      std::fprintf(stderr,
                   "kvmscope %s: the command (pid %d) did not end %d s after %s: killing it\n",
                   who_, pid, kGraceMs / 1000, util::signal_name(sig).c_str());
      child_->signal(SIGKILL);
      status_ = child_->wait_exit(kGraceMs);
    }
    if (!status_) {
      std::fprintf(stderr, "kvmscope %s: the command (pid %d) still runs after SIGKILL\n", who_,
                   pid);
      return 128 + SIGKILL;
    }
  }
  if (status_->signaled())
    std::fprintf(stderr, "kvmscope %s: the command (pid %d) was %s\n", who_, pid,
                 status_->describe().c_str());
  return status_->shell_status();
}

TracedRun::~TracedRun() {
  if (child_ && !finished_) finish();
}

}  // namespace kvmscope::cli
