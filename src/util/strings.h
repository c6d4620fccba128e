// Small string helpers used across the layers, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvmscope::util {

// "0x1f": lower-case hex with the 0x prefix, no padding.
std::string hex(std::uint64_t value);

// Every character std::isspace() accepts in the C locale.
inline constexpr std::string_view kSpaces = " \t\n\v\f\r";

// `s` without the leading and trailing characters found in `blanks` (HTTP's OWS is " \t").
std::string_view trim(std::string_view s, std::string_view blanks = kSpaces);

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), 0 if there is none.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace kvmscope::util
