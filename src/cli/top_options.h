// `kvmscope top` command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/guest_code.h"
#include "cli/traced_run.h"
#include "tui/top_view.h"
#include "util/result.h"

namespace kvmscope::cli {

struct TopOptions {
  TraceTarget target;  // -p PIDS, or -a (the default): top watches running VMs, starts none
  bool batch = false;
  std::optional<std::uint64_t> iterations;  // -n N: refreshes before exiting
  double interval_s = 1.0;
  tui::TopSort sort = tui::TopSort::rate;
  std::string filter;  // regex on VM name, process name, PID
  std::uint32_t max_entries = 4096;
  GuestCodeOptions guest;  // --by function, --guest-*
  bool help = false;
  bool counts_only = false;  // --counts-only: nothing timed, the time columns show "-"
};

// Errors are usage errors: printed as is, exit status 2.
util::Result<TopOptions> parse_top_options(Args args);

extern const char* const kTopHelp;

}  // namespace kvmscope::cli
