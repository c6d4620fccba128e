#include "report/json_literals.h"

#include "util/strings.h"

namespace kvmscope::report {

namespace {

using util::utf8_sequence_length;
}  // namespace

std::string json_string(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string json_seconds(std::uint64_t ns) {
  // Nine fraction digits, trailing zeros dropped but one always kept, so whole seconds read
  // "2.0" and readers that type numbers see a float. Built in a char array: GCC 12 at -O2 flags
  // the std::string-only version with a false -Wrestrict.
  char digits[9];
  std::uint64_t fraction = ns % 1'000'000'000;
  for (int i = 8; i >= 0; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
  std::size_t length = 9;
  while (length > 1 && digits[length - 1] == '0') --length;
  return std::to_string(ns / 1'000'000'000) + "." + std::string(digits, length);
}

}  // namespace kvmscope::report
