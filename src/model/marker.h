// A point in time a recording noted: the recording's own markers (command started/exited,
// process started) as the store keeps them and the report shows them; one type for both.
#pragma once

#include <cstdint>
#include <string>

namespace kvmscope::model {

struct Marker {
  std::uint64_t ts_ns = 0;  // CLOCK_MONOTONIC, like event timestamps
  std::string label;        // e.g. "command started", "command exited status 0"
  bool operator==(const Marker&) const = default;
};

}  // namespace kvmscope::model
