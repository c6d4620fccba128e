#include "util/usage.h"

#include <algorithm>
#include <cstdio>

namespace kvmscope::util {

namespace {

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a
// substring): a swapped pair of letters, the commonest typo, counts as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::size_t dashes(std::string_view s) {
  return std::min(s.find_first_not_of('-'), s.size());
}

}  // namespace

Error usage_error(std::string_view command, std::string what) {
  std::string see = "see 'kvmscope ";
  if (!command.empty()) see += std::string(command) + " ";
  return plain_error(std::move(what), see + "--help'");
}

int fail(std::string_view command, const Error& error, int status) {
  std::fprintf(stderr, "kvmscope %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               error.message().c_str());
  return status;
}

std::string missing_value(std::string_view option) {
  return std::string(option) + " needs a value";
}

std::string unknown_option(std::string_view option, std::span<const std::string> known) {
  std::string text = "unknown option '" + std::string(option) + "'";
  if (auto guess = closest_match(option, known)) text += "; did you mean '" + *guess + "'?";
  return text;
}

std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates) {
  if (word.size() >= dashes(word) + 2) {
    std::optional<std::string> only;
    int prefixed = 0;
    for (const auto& c : candidates)
      if (c.size() > word.size() && c.starts_with(word)) {
        only = c;
        ++prefixed;
      }
    if (prefixed == 1) return only;
    if (prefixed > 1) return std::nullopt;  // "--per-v": --per-vm or --per-vcpu, not a typo
  }
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // more than 2 edits is not a typo
  bool tie = false;
  for (const auto& c : candidates) {
    if (c == word) return std::nullopt;
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
      tie = false;
    } else if (d == best_distance) {
      tie = true;
    }
  }
  const std::size_t letters = word.size() - dashes(word);
  if (!best || tie || 2 * best_distance >= letters) return std::nullopt;
  return best;
}

std::vector<std::string> long_options_in(std::string_view help) {
  std::vector<std::string> found;
  while (!help.empty()) {
    const std::size_t eol = help.find('\n');
    std::string_view line = help.substr(0, eol);
    help.remove_prefix(eol == std::string_view::npos ? help.size() : eol + 1);
    // An option's line: "  -o, --output FILE  what it does": its syntax ends at the first double
    // space after the indent, and is a comma-separated list whose items each start with an
    // option ("--per-a N, --per-b M" names two).
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    if (!line.starts_with('-')) continue;
    line = line.substr(0, line.find("  "));
    while (!line.empty()) {
      const std::size_t comma = line.find(", ");
      std::string_view item = line.substr(0, comma);
      line.remove_prefix(comma == std::string_view::npos ? line.size() : comma + 2);
      if (!item.starts_with('-')) break;
      std::string_view word = item.substr(0, item.find(' '));
      if (const auto eq = word.find('='); eq != std::string_view::npos) word = word.substr(0, eq);
      if (word.size() > 2 && word.starts_with("--") &&
          std::find(found.begin(), found.end(), word) == found.end())
        found.emplace_back(word);
    }
  }
  return found;
}

}  // namespace kvmscope::util
