// The file header: magic, format version, then the recording's metadata as a key/value list
// (docs/file-format.md, "File header").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "store/recording_info.h"
#include "util/result.h"

namespace kvmscope::store {

// The whole header, CRC included, ready for one write().
std::vector<std::uint8_t> encode_file_header(const RecordingInfo& info);

// What the first kFileHeaderFixed bytes say: checks the magic and the major version and returns
// the header's total length (still to be bounds-checked by the caller against kFileHeaderMax).
// `name` is the file's name for the messages.
util::Result<std::uint32_t> check_file_prefix(std::span<const std::uint8_t> prefix,
                                              const std::string& name);

// Parses a whole header (its length came from check_file_prefix) into `info`.
util::Result<RecordingInfo> decode_file_header(std::span<const std::uint8_t> header,
                                               const std::string& name);

}  // namespace kvmscope::store
