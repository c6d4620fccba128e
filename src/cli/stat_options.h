// `kvmscope stat` command line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/guest_code.h"
#include "cli/traced_run.h"
#include "model/drilldown.h"
#include "model/exit_key.h"
#include "model/summary.h"
#include "util/result.h"

namespace kvmscope::cli {

struct StatOptions {
  TraceTarget target;
  std::uint64_t every = 0;  // --every N, 0 = off
  model::Level every_level = model::Level::hardware;
  model::Breakdown breakdown = model::Breakdown::none;
  bool json = false;
  std::string output;  // -o FILE, empty = stdout
  std::uint32_t max_entries = 4096;
  std::vector<model::DrillKind> by;  // --by port,mmio,...
  GuestCodeOptions guest;            // --by function, --guest-*
  bool counts_only = false;          // --counts-only
  bool verbose = false;              // -v, --verbose
  bool help = false;
};

// "port,mmio" / "all" -> drill-down kinds (stat --by, report --by).
class OptionCursor;
util::Result<std::vector<model::DrillKind>> parse_drill_kinds(const OptionCursor& cursor,
                                                              std::string_view text);

// Errors are usage errors: the message is printed as is, and the exit status is 2.
util::Result<StatOptions> parse_stat_options(Args args);

extern const char* const kStatHelp;

}  // namespace kvmscope::cli
