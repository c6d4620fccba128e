// A stream (a pipe) copied into a temporary file that has no name, for readers that need to
// seek: the file goes away with its descriptor, whatever way the process ends.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::util {

// `prefix` (bytes already read from `in`), then everything `in` holds up to its end, in a file
// of $TMPDIR (else /tmp): O_TMPFILE where the filesystem has it, else mkstemp and unlink at
// once. Returned positioned at offset 0. `name` is the stream's, for messages.
Result<Fd> spool_to_temp_file(int in, std::span<const std::uint8_t> prefix,
                              const std::string& name);

}  // namespace kvmscope::util
