// `kvmscope stat` command line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "model/exit_key.h"
#include "model/summary.h"
#include "util/result.h"

namespace kvmscope::cli {

struct StatOptions {
  std::vector<std::string> command;  // after "--"
  std::vector<pid_t> pids;           // -p
  bool all = false;                  // -a
  std::optional<double> duration_s;  // -d
  std::uint64_t every = 0;           // --every N, 0 = off
  model::Level every_level = model::Level::hardware;
  model::Breakdown breakdown = model::Breakdown::none;
  bool json = false;
  std::string output;  // -o FILE, empty = stdout
  std::uint32_t max_entries = 16384;
  bool help = false;
};

// Errors are usage errors: the message is printed as is, and the exit status is 2.
util::Result<StatOptions> parse_stat_options(Args args);

extern const char* const kStatHelp;

}  // namespace kvmscope::cli
