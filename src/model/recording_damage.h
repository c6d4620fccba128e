// A damaged stretch of a recording that the reader skipped to read on: found by the store's
// Reader (docs/file-format.md, "Reader behaviour"), told by the report with what it cost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kvmscope::model {

struct DamagedRange {
  std::uint64_t offset = 0;  // bytes [offset, end) of the file were skipped
  std::uint64_t end = 0;
  // Its first block's number (1: the first block after the file header), while known: after a
  // damaged block header the number of blocks skipped is not.
  std::optional<std::uint64_t> block;
  std::string block_type;  // "events", "lost", "vm", "marker", "end"; "" when its header is bad
  std::string reason;      // e.g. "payload CRC mismatch", "block header CRC mismatch"
  // Events lost in it: exact (`exact`) from the block's own header or the trailer's totals,
  // else an estimate from the intact events blocks' events per byte; unset where there is
  // nothing to estimate from.
  std::optional<std::uint64_t> events;
  bool exact = false;
  bool operator==(const DamagedRange&) const = default;
};

}  // namespace kvmscope::model
