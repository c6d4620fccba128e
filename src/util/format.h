// Number formatting shared by everything that prints for people (report, top, guest). Every
// function is deterministic (no locale), so golden tests hold on any machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvmscope::util {

// 12002 -> "12,002".
std::string format_count(std::uint64_t n);

// A duration with three significant digits and a unit: "850 ns", "1.23 us", "45.6 ms", "3.21 s".
// ASCII "us" so that columns stay aligned by byte count.
std::string format_duration_ns(std::uint64_t ns);

// part/whole as a percentage with one decimal: "83.3%". Never rounds a non-zero share to "0.0%"
// or a partial one to "100.0%" ("<0.1%", ">99.9%"), so a row never looks empty or complete when
// it is not. "-" when whole is 0.
std::string format_percent(std::uint64_t part, std::uint64_t whole);

// Events per second, three significant digits below 100 ("0.25", "42.5"), whole and grouped
// above ("3,115"). "-" when no time has passed.
std::string format_rate(std::uint64_t count, double seconds);

// Text from outside (VM names, command lines) made safe for a one-line cell: control characters
// become '?', so a name cannot break the table's lines.
std::string printable(std::string_view text);

}  // namespace kvmscope::util
