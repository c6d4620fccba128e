#include "cli/numbers.h"

#include <charconv>
#include <cmath>
#include <string>

namespace kvmscope::cli {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(std::string_view text) {
  double scale = 1.0;
  if (text.ends_with("ms")) {
    scale = 1e-3;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  } else if (text.ends_with("m")) {
    scale = 60.0;
    text.remove_suffix(1);
  } else if (text.ends_with("h")) {
    scale = 3600.0;
    text.remove_suffix(1);
  }
  auto v = parse_decimal(text);
  if (!v) return std::nullopt;
  return *v * scale;
}

std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // from_chars for double is in GCC 11+, but strtod keeps it simple and strict enough here.
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

}  // namespace kvmscope::cli
