// kvmscope top: a live view of VM exits per VM, vCPU and reason (curses), or plain text frames
// with --batch. Loads the same collector as stat, counting in the kernel, and shows differences
// of its snapshots.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/guest_code.h"
#include "cli/signals.h"
#include "cli/top_options.h"
#include "cli/top_run.h"
#include "cli/traced_run.h"
#include "collect/exit_collector.h"
#include "model/reason_catalog.h"
#include "util/clock.h"
#include "util/usage.h"

namespace kvmscope::cli {

int cmd_top(Args args) {
  auto parsed = parse_top_options(args);
  if (!parsed) return util::fail("top", parsed.error(), 2);
  const TopOptions& o = *parsed;
  if (o.help) {
    std::fputs(kTopHelp, stdout);
    return 0;
  }
  if (!o.batch && !(::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)))
    return util::fail(
        "top",
        util::plain_error("the interactive view needs a terminal on standard input and "
                          "output, and this is not one",
                          "use --batch for plain text frames"),
        2);

  auto guest = load_guest_files(o.guest);  // before tracing: a wrong file fails at once
  if (!guest) return util::fail("top", guest.error());

  auto root = preflight(o.target);
  if (!root) return util::fail("top", root.error());
  const model::ReasonCatalog catalog = live_reason_catalog(*root, "top");

  collect::CollectorConfig config;
  config.whole_host = o.target.all;
  config.share_tracepoints = o.target.share_tracepoints;
  config.max_entries = o.max_entries;
  config.counts_only = o.counts_only;
  config.guest_sites = o.guest.functions;
  auto collector = collect::ExitCollector::start(config);
  if (!collector) return util::fail("top", collector.error());
  for (pid_t pid : o.target.pids)
    if (auto r = (*collector)->add_target(pid); !r) return util::fail("top", r.error());
  install_stop_handlers();

  TopSession session{
      o, **collector, catalog, tui::TopModel(), 0, o.guest.functions ? &*guest : nullptr};
  if (o.target.duration_s)
    session.deadline_ns =
        util::monotonic_ns() + static_cast<std::uint64_t>(*o.target.duration_s * 1e9);
  // The first snapshot is where the first interval starts.
  if (auto r = session.refresh(); !r) return util::fail("top", r.error());
  auto ran = o.batch ? run_top_batch(session, std::cout) : run_top_screen(session);
  if (!ran)
    return util::fail("top", ran.error());  // the screen is closed by now: the line stays visible
  return 0;
}

}  // namespace kvmscope::cli
