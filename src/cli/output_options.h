// The output options report and diff share (--json, --csv, --html, -o/--output): parsed once, and
// each output's directory checked once, before anything is read.
#pragma once

#include <string>

#include "cli/option_cursor.h"
#include "util/result.h"

namespace kvmscope::cli {

struct OutputOptions {
  bool json = false;
  std::string csv, html, output;           // --csv (report: a directory; diff: a file), --html, -o
  std::string output_option = "--output";  // as given: "-o" or "--output", for messages
};

// Parses the option at the cursor when it is one of the above; false where it is none of them.
util::Result<bool> parse_output_option(OptionCursor& cursor, OutputOptions& o);

// Each output goes into a directory that exists (--csv DIR makes DIR itself, nothing above it):
// a usage error naming the option otherwise.
util::Result<void> check_output_paths(const OutputOptions& o);

}  // namespace kvmscope::cli
