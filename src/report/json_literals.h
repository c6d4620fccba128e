// The few pieces of JSON text the JSON renderer needs, written by hand rather than pulled from a
// library: string literals (escaped, always valid UTF-8) and exact decimal seconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvmscope::report {

// text as a JSON string literal, quotes included. Quotes, backslashes and control characters are
// escaped (\n, \t ... or \u00XX); bytes that are not valid UTF-8 (a process name can hold any
// bytes) become U+FFFD, so the document always parses.
std::string json_string(std::string_view text);

// A duration in ns as exact decimal seconds, no float rounding: 1234000000 -> "1.234",
// 2000000000 -> "2.0".
std::string json_seconds(std::uint64_t ns);

}  // namespace kvmscope::report
