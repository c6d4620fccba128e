// kvmscope stat: trace a command, processes or the whole host; print the exit table at the end
// (and, with --every, a cumulative block each time the exit count crosses a multiple of N).
#include <time.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/guest_code.h"
#include "cli/stat_options.h"
#include "cli/traced_run.h"
#include "collect/exit_collector.h"
#include "model/reason_catalog.h"
#include "report/render.h"
#include "util/clock.h"
#include "util/usage.h"

namespace kvmscope::cli {

namespace {

// Cumulative counts of the streamed exits; prints a block at every multiple of N.
class EveryN {
 public:
  EveryN(std::uint64_t n, const model::ReasonCatalog& catalog, std::uint64_t started_ns,
         std::ostream& out)
      : n_(n), catalog_(catalog), started_ns_(started_ns), out_(out) {}

  void add(const ks_exit_event& e) {
    ++counts_[model::reason_of(e.key)];
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

}  // namespace

int cmd_stat(Args args) {
  auto parsed = parse_stat_options(args);
  if (!parsed) return util::fail("stat", parsed.error(), 2);
  const StatOptions& o = *parsed;
  if (o.help) {
    std::fputs(kStatHelp, stdout);
    return 0;
  }

  auto guest = load_guest_files(o.guest);  // before tracing: a wrong file fails at once
  if (!guest) return util::fail("stat", guest.error());
  auto root = preflight(o.target);
  if (!root) return util::fail("stat", root.error());
  if (auto vms = check_pids_have_vms(o.target, "stat"); !vms)
    return util::fail("stat", vms.error());
  const model::ReasonCatalog catalog = live_reason_catalog(*root, "stat");

  std::ofstream file;
  if (!o.output.empty()) {
    file.open(o.output, std::ios::out | std::ios::trunc);
    if (!file) {
      const int err = errno;
      return util::fail("stat", util::os_error("cannot write " + o.output, err));
    }
  }
  // Like perf stat: a traced command keeps standard output for itself, so that its output and
  // kvmscope's results (table, JSON, --every blocks) never mix; -p and -a have no such command.
  std::ostream& out = !o.output.empty() ? file : o.target.command.empty() ? std::cout : std::cerr;

  collect::CollectorConfig config;
  config.whole_host = o.target.all;
  config.share_tracepoints = o.target.share_tracepoints;
  config.max_entries = o.max_entries;
  config.drills = !o.by.empty();
  config.guest_sites = o.guest.functions;
  config.stream_exits = o.every > 0;
  config.stream_level = o.every_level;
  config.counts_only = o.counts_only;
  auto collector = collect::ExitCollector::start(config);
  if (!collector) return util::fail("stat", collector.error());
  auto& c = **collector;
  if (o.verbose) std::cerr << "kvmscope stat: " << c.hooks() << "\n";

  TracedRun run("stat");
  if (auto started = run.start(o.target, c); !started)
    return util::fail("stat", started.error().error, started.error().status);

  std::unique_ptr<EveryN> every;
  if (o.every) every = std::make_unique<EveryN>(o.every, catalog, c.started_ns(), out);
  auto on_exit = [&](const ks_exit_event& e) { every->add(e); };

  std::uint64_t next_name_scan = 0;
  while (!run.should_stop()) {
    if (every) {
      if (auto r = c.poll_stream(100, on_exit); !r) return util::fail("stat", r.error());
    } else {
      util::sleep_ms(100);  // EINTR on a stop signal is what we want
    }
    if (const std::uint64_t now = util::monotonic_ns(); now >= next_name_scan) {
      // Learn the names of VMs while they are alive; a VM that exits keeps its name.
      if (auto seen = c.snapshot()) c.name_vms(*seen);
      next_name_scan = now + 1000000000ull;
    }
  }
  const int status = run.finish();
  if (every) {
    while (true) {  // exits still in the ring buffer belong to the counts
      auto r = c.poll_stream(0, on_exit);
      if (!r) return util::fail("stat", r.error());
      if (*r == 0) break;
    }
  }

  auto snapshot = c.snapshot();
  if (!snapshot) return util::fail("stat", snapshot.error());
  c.name_vms(*snapshot);
  report::ReportOptions render;
  render.breakdown = o.breakdown;
  render.target = o.target.describe();
  render.notes = c.notes();
  util::Result<model::DrillDown> drill = model::DrillDown();
  if (!o.by.empty()) {
    drill = c.drilldown();
    if (!drill) return util::fail("stat", drill.error());
    render.drill = &*drill;
    render.drilldowns = o.by;
    render.drilldowns_per_vm = o.breakdown != model::Breakdown::none;  // split as the exit tables
  }
  std::optional<symbols::Attribution> attribution;
  if (o.guest.functions) {
    auto sites = c.guest_sites(*snapshot);
    if (!sites) return util::fail("stat", sites.error());
    std::vector<std::string> unmatched;
    attribution =
        symbols::attribute(*sites, guest_kernels(o.guest, *guest, snapshot->vms, &unmatched));
    render.guest_code = &*attribution;
    say_offsets("stat", o.guest, *attribution, unmatched);
  }
  // Rendered whole, then written at once: std::cerr is unbuffered.
  std::ostringstream text;
  if (o.json)
    report::render_json(*snapshot, catalog, render, text);
  else
    report::render_table(*snapshot, catalog, render, text);
  out << text.str();
  out.flush();
  if (!out) {
    const int err = errno;
    return util::fail("stat", util::os_error("writing the output", err));
  }
  return status;
}

}  // namespace kvmscope::cli
