// Strict number parsing for command-line values: the whole string must be the number.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kvmscope::cli {

std::optional<std::uint64_t> parse_u64(std::string_view text);
std::optional<double> parse_seconds(std::string_view text);  // "10", "2.5", "500ms", "1m"
std::optional<double> parse_decimal(std::string_view text);  // "0", "2.5", "1e-4": finite, >= 0

}  // namespace kvmscope::cli
