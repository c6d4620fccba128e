// What `kvmscope report` reads: a recording file, or one arriving on a pipe (`report -`). Which
// format it is shows in its first bytes (store/recording_format.h); kvmscope's own streams from
// the pipe as it comes, while trace.dat, read by offset, is spooled to a nameless temporary file
// first. open_recording() (store/event_source.h) turns this into an EventSource.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/recording_format.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::store {

struct RecordingInput {
  util::Fd fd;
  // The bytes read from a pipe to learn the format: they come before what fd still holds
  // (Reader::from_fd takes them). Empty for a file, and for a pipe spooled to a file.
  std::vector<std::uint8_t> prefix;
  // From the first bytes; a format read by offset (read_by_offset()) has fd on a regular file.
  RecordingFormat format = RecordingFormat::unknown;
  std::vector<std::uint8_t> head;  // those first bytes (up to kFormatSniff), for messages
  std::string name;                // for messages
};

// From a descriptor open for reading (a file, a pipe, a socket); `name` for messages.
util::Result<RecordingInput> recording_input(util::Fd fd, const std::string& name);

// `path`, or standard input when it is "-" (named "standard input" in messages).
util::Result<RecordingInput> open_recording_input(const std::string& path);

}  // namespace kvmscope::store
