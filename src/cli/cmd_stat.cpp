// kvmscope stat: trace a command, processes or the whole host; print the exit table at the end
// (and, with --every, a cumulative block each time the exit count crosses a multiple of N).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "cli/child_process.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/stat_options.h"
#include "collect/exit_collector.h"
#include "collect/tracefs.h"
#include "model/reason_catalog.h"
#include "model/vm_name.h"
#include "report/render.h"
#include "util/privileges.h"
#include "util/proc.h"

namespace kvmscope::cli {

namespace {

int fail(const util::Error& error, int status = 1) {
  std::fprintf(stderr, "kvmscope stat: %s\n", error.message().c_str());
  return status;
}

std::string describe_target(const StatOptions& o) {
  if (o.all) return "all VMs on this host";
  if (!o.pids.empty()) {
    std::string s = o.pids.size() == 1 ? "pid " : "pids ";
    for (std::size_t i = 0; i < o.pids.size(); ++i) s += (i ? "," : "") + std::to_string(o.pids[i]);
    return s;
  }
  std::string s = "command:";
  for (const auto& a : o.command) s += " " + a;
  return s;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Cumulative counts of the streamed exits; prints a block at every multiple of N.
class EveryN {
 public:
  EveryN(std::uint64_t n, const model::ReasonCatalog& catalog, std::uint64_t started_ns,
         std::ostream& out)
      : n_(n), catalog_(catalog), started_ns_(started_ns), out_(out) {}

  void add(const ks_exit_event& e) {
    model::Reason r{e.key.level == KS_LEVEL_VMM ? model::Level::vmm : model::Level::hardware,
                    static_cast<model::Isa>(e.key.isa), e.key.reason};
    ++counts_[r];
    if (++total_ % n_ == 0) {
      double t = e.ts_ns > started_ns_ ? (e.ts_ns - started_ns_) / 1e9 : 0.0;
      report::render_every_n(total_, t, counts_, catalog_, out_);
      out_.flush();
    }
  }

 private:
  std::uint64_t n_;
  const model::ReasonCatalog& catalog_;
  std::uint64_t started_ns_;
  std::ostream& out_;
  std::map<model::Reason, std::uint64_t> counts_;
  std::uint64_t total_ = 0;
};

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);  // EINTR on a stop signal is what we want
}

}  // namespace

int cmd_stat(Args args) {
  auto parsed = parse_stat_options(args);
  if (!parsed) return fail(parsed.error(), 2);
  const StatOptions& o = *parsed;
  if (o.help) {
    std::fputs(kStatHelp, stdout);
    return 0;
  }

  if (!util::can_trace_with_bpf())
    return fail(
        util::plain_error("permission denied: tracing needs root (or CAP_BPF and "
                          "CAP_PERFMON)",
                          "run it with sudo"));
  for (pid_t pid : o.pids)
    if (!util::process_exists(pid))
      return fail(util::plain_error("no process with PID " + std::to_string(pid)));
  auto root = collect::tracefs_root();
  if (!root) return fail(root.error());
  if (auto kvm = collect::require_kvm_events(*root); !kvm) return fail(kvm.error());

  auto catalog = model::ReasonCatalog::from_tracefs(*root);
  if (!catalog) {
    std::fprintf(stderr, "kvmscope stat: warning: %s; using built-in reason names\n",
                 catalog.error().message().c_str());
    catalog = model::ReasonCatalog::builtin();
  }

  std::ofstream file;
  if (!o.output.empty()) {
    file.open(o.output, std::ios::out | std::ios::trunc);
    if (!file) return fail(util::os_error("cannot write " + o.output));
  }
  std::ostream& out = o.output.empty() ? std::cout : file;

  collect::CollectorConfig config;
  config.whole_host = o.all;
  config.max_entries = o.max_entries;
  config.stream_exits = o.every > 0;
  config.stream_level = o.every_level;
  auto collector = collect::ExitCollector::start(config);
  if (!collector) return fail(collector.error());
  auto& c = **collector;
  for (const auto& note : c.notes())
    std::fprintf(stderr, "kvmscope stat: note: %s\n", note.c_str());

  install_stop_handlers();

  std::optional<ChildProcess> child;
  if (!o.command.empty()) {
    auto spawned = ChildProcess::spawn_paused(o.command);
    if (!spawned) return fail(spawned.error());
    child.emplace(std::move(*spawned));
    if (auto r = c.add_target(child->pid()); !r) return fail(r.error());
    const std::string comm = basename_of(o.command.front()).substr(0, 15);
    c.name_vm(child->pid(), {model::vm_name_from_cmdline(o.command, comm), comm});
    if (auto r = child->release(); !r) return fail(r.error(), 127);
  }
  for (pid_t pid : o.pids)
    if (auto r = c.add_target(pid); !r) return fail(r.error());

  std::unique_ptr<EveryN> every;
  if (o.every) every = std::make_unique<EveryN>(o.every, *catalog, c.started_ns(), out);
  auto on_exit = [&](const ks_exit_event& e) { every->add(e); };

  const std::uint64_t deadline =
      o.duration_s ? c.started_ns() + static_cast<std::uint64_t>(*o.duration_s * 1e9) : 0;
  std::uint64_t next_name_scan = 0;
  std::optional<int> child_status;
  for (;;) {
    if (every) {
      if (auto r = c.poll_stream(100, on_exit); !r) return fail(r.error());
    } else {
      sleep_ms(100);
    }
    const std::uint64_t now = collect::monotonic_ns();
    if (stop_requested()) break;
    if (child && (child_status = child->poll_exit())) break;
    if (!o.pids.empty()) {
      bool any_alive = false;
      for (pid_t pid : o.pids) any_alive = any_alive || util::process_exists(pid);
      if (!any_alive) break;
    }
    if (deadline && now >= deadline) break;
    if (now >= next_name_scan) {
      // Learn the names of VMs while they are alive; a VM that exits keeps its name.
      (void)c.snapshot();
      next_name_scan = now + 1000000000ull;
    }
  }

  if (child && !child_status) {
    // Stopped by a signal or the duration: the command gets the same signal (Ctrl-C from a
    // terminal reached it already; a `kill` sent to kvmscope alone did not).
    child->signal(stop_requested() ? stop_signal() : SIGTERM);
    child_status = child->wait_exit(5000);
  }
  if (every) {
    while (true) {  // exits still in the ring buffer belong to the counts
      auto r = c.poll_stream(0, on_exit);
      if (!r) return fail(r.error());
      if (*r == 0) break;
    }
  }

  auto snapshot = c.snapshot();
  if (!snapshot) return fail(snapshot.error());
  report::RenderOptions render;
  render.breakdown = o.breakdown;
  render.target = describe_target(o);
  render.collector_notes = c.notes();
  if (o.json)
    report::render_json(*snapshot, *catalog, render, out);
  else
    report::render_table(*snapshot, *catalog, render, out);
  out.flush();
  if (!out) return fail(util::os_error("writing the output"));

  if (child) return child_status.value_or(128 + (stop_signal() ? stop_signal() : SIGTERM));
  return 0;
}

}  // namespace kvmscope::cli
