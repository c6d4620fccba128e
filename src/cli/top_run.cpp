#include "cli/top_run.h"

#include <time.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/signals.h"
#include "report/report_guest_code.h"
#include "symbols/attribution.h"
#include "tui/top_frame.h"
#include "util/clock.h"
#include "util/proc.h"

namespace kvmscope::cli {

namespace {

// Sleeps until `until_ns` (CLOCK_MONOTONIC) in short steps, so a stop signal ends it at once.
// False when a stop was requested.
bool sleep_until(std::uint64_t until_ns) {
  while (!stop_requested()) {
    const std::uint64_t now = util::monotonic_ns();
    if (now >= until_ns) return true;
    const std::uint64_t step = std::min<std::uint64_t>(until_ns - now, 100000000ull);
    util::sleep_ns(step);
  }
  return false;
}

// A VMM that has exited but is not reaped yet (a zombie) still answers kill(pid, 0); for top it
// is gone: it will make no more exits.
bool vm_alive(pid_t pid) {
  if (!util::process_exists(pid)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream text;
  text << stat.rdbuf();
  const std::string line = text.str();
  const auto paren = line.rfind(')');  // the name may contain anything, even ") Z"
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

bool any_alive(const std::vector<pid_t>& pids) {
  return std::any_of(pids.begin(), pids.end(), vm_alive);
}

// The guest functions' numbers top shows (--by function), from an attribution.
std::vector<tui::FunctionCount> function_counts(const symbols::Attribution& a) {
  std::vector<tui::FunctionCount> out;
  for (const symbols::VmAttribution& vm : a.vms)
    for (const symbols::ReasonFunctions& r : vm.reasons)
      for (const symbols::FunctionRow& f : r.functions)
        out.push_back({vm.vm_pid, r.reason, f.name, f.stats.count, f.stats.timed, f.stats.time_ns});
  return out;
}

}  // namespace

util::Result<void> TopSession::refresh() {
  auto snapshot = collector.snapshot();
  if (!snapshot) return snapshot.error();
  collector.name_vms(*snapshot);
  std::vector<tui::FunctionCount> functions;
  std::map<std::uint32_t, std::string> notes;  // per VM: how its RIPs were named
  if (guest) {
    auto sites = collector.guest_sites(*snapshot);
    if (!sites) return sites.error();
    // VM names are known only now: a VM named by --guest-symbols VM=FILE may come and go.
    const symbols::Attribution a =
        symbols::attribute(*sites, guest_kernels(options.guest, *guest, snapshot->vms));
    functions = function_counts(a);
    for (const symbols::VmAttribution& vm : a.vms)
      notes[vm.vm_pid] = report::guest_offset_text(a, vm);
  }
  model.update(std::move(*snapshot),
               [](std::uint32_t pid) { return vm_alive(static_cast<pid_t>(pid)); });
  if (guest) model.update_functions(functions, std::move(notes));
  return {};
}

std::string TopSession::clock() const {
  const time_t now = ::time(nullptr);
  struct tm local = {};
  ::localtime_r(&now, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

bool TopSession::duration_over() const {
  return deadline_ns && util::monotonic_ns() >= deadline_ns;
}

util::Result<void> run_top_batch(TopSession& s, std::ostream& out) {
  const auto filter = tui::TopFilter::compile(s.options.filter);
  if (!filter) return filter.error();
  const auto interval_ns = static_cast<std::uint64_t>(s.options.interval_s * 1e9);
  std::uint64_t next = util::monotonic_ns() + interval_ns;
  for (std::uint64_t frame = 0; !s.options.iterations || frame < *s.options.iterations; ++frame) {
    // The last interval of a --duration is cut short to end on time.
    if (!sleep_until(s.deadline_ns ? std::min(next, s.deadline_ns) : next)) break;
    next += interval_ns;
    if (auto r = s.refresh(); !r) return r;
    tui::write_batch_frame(s.model, s.options.sort, *filter, s.catalog, s.options.interval_s,
                           {s.clock(), s.options.target.describe(), s.options.counts_only}, out);
    out.flush();
    if (!out) {
      const int err = errno;
      return util::os_error("writing the output", err);
    }
    if (s.duration_over()) break;
    if (!s.options.target.pids.empty() && !any_alive(s.options.target.pids)) break;
  }
  return {};
}

}  // namespace kvmscope::cli
