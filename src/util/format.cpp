#include "util/format.h"

#include <array>
#include <cmath>
#include <cstdio>

namespace kvmscope::util {

namespace {

// printf into a std::string; every format used here fits in 64 bytes.
template <class... Args>
std::string printf_string(const char* format, Args... args) {
  std::array<char, 64> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), format, args...);
  if (n < 0) return {};
  return std::string(buffer.data(), static_cast<std::size_t>(n) < buffer.size()
                                        ? static_cast<std::size_t>(n)
                                        : buffer.size() - 1);
}

// Three significant digits for a value in [1, 1000): the number of decimals is chosen on the
// rounded value, so 9.996 prints as "10.0", not "10.00".
std::string three_digits(double value) {
  if (value < 9.995) return printf_string("%.2f", value);
  if (value < 99.95) return printf_string("%.1f", value);
  return printf_string("%.0f", value);
}

}  // namespace

std::string format_count(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string format_duration_ns(std::uint64_t ns) {
  if (ns < 1000) return std::to_string(ns) + " ns";
  // Switch to the next unit where three digits would round up to "1000".
  const double v = static_cast<double>(ns);
  if (v < 999.5e3) return three_digits(v / 1e3) + " us";
  if (v < 999.5e6) return three_digits(v / 1e6) + " ms";
  const double s = v / 1e9;
  if (s < 999.5) return three_digits(s) + " s";
  return printf_string("%.0f", s) + " s";
}

std::string format_percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  if (part > 0 && p < 0.05) return "<0.1%";
  if (part < whole && p >= 99.95) return ">99.9%";
  return printf_string("%.1f%%", p);
}

std::string format_rate(std::uint64_t count, double seconds) {
  if (!(seconds > 0)) return "-";
  const double rate = static_cast<double>(count) / seconds;
  if (rate < 99.95) return rate < 9.995 ? printf_string("%.2f", rate) : printf_string("%.1f", rate);
  return format_count(static_cast<std::uint64_t>(std::round(rate)));
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace kvmscope::util
