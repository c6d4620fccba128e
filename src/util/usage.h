// Command-line usage errors worded once for every subcommand: "--duration needs a value",
// "unknown option '--duraton'; did you mean '--duration'?", each followed by
// "(see 'kvmscope stat --help')", and the "did you mean" guess behind them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kvmscope::util {

// `what` with the hint "see 'kvmscope COMMAND --help'" (COMMAND empty: "see 'kvmscope --help'").
Error usage_error(std::string_view command, std::string what);

// Ends a subcommand that failed: prints "kvmscope COMMAND: <error>" on stderr, the one line the
// user sees, and returns `status`, the exit status to end with.
int fail(std::string_view command, const Error& error, int status = 1);

// "--duration needs a value".
std::string missing_value(std::string_view option);

// "unknown option '--duraton'", then "; did you mean '--duration'?" when one is close.
std::string unknown_option(std::string_view option, std::span<const std::string> known);

// The candidate `word` was most likely meant as: the only one it is a prefix of (at least two
// characters beyond any leading dashes; a prefix of several is ambiguous: nullopt), else the
// nearest by edit distance (insert, delete, substitute, swap two neighbours) when that is at
// most 2 and less than half the word's length, and no other candidate is as near. nullopt when
// nothing is close or it is `word`.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates);

// The long options a help text defines, each once, in order: the dashed words that begin its
// lines ("  -o, --output FILE  ..." gives "--output"); those only mentioned in prose are not.
std::vector<std::string> long_options_in(std::string_view help);

}  // namespace kvmscope::util
