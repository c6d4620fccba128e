// What `kvmscope report` reads: a recording file, or one arriving on a pipe (`report -`). Which
// format it is shows in its first bytes; kvmscope's own streams from the pipe as it comes, while
// trace.dat, read by offset, is spooled to a nameless temporary file first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::cli {

struct RecordingInput {
  util::Fd fd;
  // The bytes read from a pipe to learn the format: they come before what fd still holds
  // (Reader::from_fd takes them). Empty for a file.
  std::vector<std::uint8_t> prefix;
  bool tracedat = false;  // trace-cmd's trace.dat (fd is then a regular file), else kvmscope's
  std::string name;       // for messages
};

// From a descriptor open for reading (a file, a pipe, a socket); `name` for messages.
util::Result<RecordingInput> recording_input(util::Fd fd, const std::string& name);

// `path`, or standard input when it is "-" (named "standard input" in messages).
util::Result<RecordingInput> open_recording_input(const std::string& path);

}  // namespace kvmscope::cli
