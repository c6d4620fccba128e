#include "guest/plan.h"

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "util/usage.h"

namespace kvmscope::guest {

namespace {

constexpr std::array<std::string_view, kKindCount> kNames = {
    "cpuid", "msr-read", "msr-write", "vmcall", "mmio", "io", "hlt"};

// Digits only: no sign, no spaces, no hex, so "-1" or "1e9" are refused rather than guessed at.
std::optional<std::uint64_t> parse_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A number in [min, max] for option `name`, or the usage error that says what was expected.
// `expected` describes the valid values; `too_large`, what to say about a number above max.
util::Result<std::uint64_t> parse_bounded(std::string_view name, std::string_view text,
                                          std::uint64_t min, std::uint64_t max,
                                          std::string_view expected, std::string_view too_large) {
  auto value = parse_digits(text);
  if (value && *value >= min && *value <= max) return *value;
  bool all_digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  bool above = all_digits && (!value || *value > max);  // !value: beyond even 64 bits
  return util::usage_error("guest", std::string(name) + ": expected " +
                                        std::string(above ? too_large : expected) + ", got '" +
                                        std::string(text) + "'");
}

}  // namespace

std::string_view kind_name(Kind kind) {
  return kNames[static_cast<std::size_t>(kind)];
}

bool exits_to_vmm(Kind kind) {
  return kind == Kind::mmio || kind == Kind::io || kind == Kind::hlt;
}

std::uint64_t Plan::vmm_exits_per_vcpu() const {
  std::uint64_t n = 0;
  for (Kind k : kKinds)
    if (exits_to_vmm(k)) n += (*this)[k];
  return n;
}

std::uint64_t Plan::exits_per_vcpu() const {
  std::uint64_t n = 0;
  for (Kind k : kKinds) n += (*this)[k];
  return n;
}

util::Result<Plan> parse_plan(std::span<const char* const> args) {
  Plan plan;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i] ? args[i] : "";
    if (arg == "--help" || arg == "-h") {
      plan.help = true;
      continue;
    }
    if (arg == "--query-exits") {
      plan.query_exits = true;
      continue;
    }
    if (arg == "--quiet" || arg == "-q") {
      plan.quiet = true;
      continue;
    }
    if (!arg.starts_with("--"))
      return util::usage_error("guest", "unexpected argument '" + std::string(arg) + "'");

    // "--name value" or "--name=value".
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    std::string_view bare = name.substr(2);
    bool known = bare == "vcpus" || bare == "timeout";
    for (auto n : kNames) known = known || bare == n;
    if (!known) {
      std::vector<std::string> options = {"--vcpus", "--timeout", "--query-exits", "--quiet",
                                          "--help"};
      for (auto n : kNames) options.push_back("--" + std::string(n));
      return util::usage_error("guest", util::unknown_option(name, options));
    }
    if (!value) {
      if (i + 1 >= args.size() || !args[i + 1])
        return util::usage_error("guest", util::missing_value(name));
      value = args[++i];
    }

    if (bare == "vcpus") {
      constexpr std::string_view kExpected = "a vCPU count from 1 to 64";
      auto v = parse_bounded(name, *value, 1, kMaxVcpus, kExpected, kExpected);
      if (!v) return v.error();
      plan.vcpus = static_cast<unsigned>(*v);
    } else if (bare == "timeout") {
      constexpr std::string_view kSeconds = "a whole number of seconds from 1 to 86400";
      auto v = parse_bounded(name, *value, 1, kMaxTimeoutS, kSeconds, kSeconds);
      if (!v) return v.error();
      plan.timeout_s = static_cast<unsigned>(*v);
    } else {
      auto v = parse_bounded(name, *value, 0, kMaxCount, "a non-negative integer",
                             "a non-negative integer up to " + std::to_string(kMaxCount));
      if (!v) return v.error();
      for (Kind k : kKinds)
        if (kind_name(k) == bare) plan[k] = *v;
    }
  }
  return plan;
}

}  // namespace kvmscope::guest
