#include "model/diff_condition.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "model/diff_stats.h"

namespace kvmscope::model {

namespace {

using Condition = DiffCondition;

util::Error bad(std::string_view text, const std::string& what) {
  return util::plain_error("--fail-if '" + std::string(text) + "': " + what,
                           "e.g. 'io:+10%', 'total:+5%', 'npf.p99:+20%', 'vmx:30:+1000'");
}

bool iequals(std::string_view x, std::string_view y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](char c, char d) {
    return std::tolower(static_cast<unsigned char>(c)) ==
           std::tolower(static_cast<unsigned char>(d));
  });
}

// Decimal or 0x hex, the whole token.
std::optional<std::uint64_t> parse_number(std::string_view t) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    base = 16;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<Condition::Metric> metric_from(std::string_view t) {
  for (auto m : {Condition::Metric::count, Condition::Metric::p50, Condition::Metric::p99,
                 Condition::Metric::mean})
    if (t == metric_name(m)) return m;
  return std::nullopt;
}

std::optional<Isa> isa_from(std::string_view t) {
  if (t == "vmx") return Isa::vmx;
  if (t == "svm") return Isa::svm;
  if (t == "arm64") return Isa::arm64;
  return std::nullopt;
}

util::Result<void> parse_change(std::string_view text, std::string_view t, Condition& c) {
  if (t.empty()) return bad(text, "no change after the last ':'");
  if (t[0] != '+' && t[0] != '-')
    return bad(text, "'" + std::string(t) + "' needs a sign: +N% (a rise) or -N% (a fall)");
  c.rise = t[0] == '+';
  std::string_view rest = t.substr(1);
  std::size_t digits = 0;
  while (digits < rest.size() &&
         (std::isdigit(static_cast<unsigned char>(rest[digits])) || rest[digits] == '.'))
    ++digits;
  double amount = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + digits, amount);
  if (digits == 0 || ec != std::errc() || end != rest.data() + digits || !(amount >= 0))
    return bad(text, "'" + std::string(t) + "' is not a change: expected +N%, -N% or +N");
  const std::string_view unit = rest.substr(digits);
  const bool time = c.metric != Condition::Metric::count;
  c.percent = unit == "%";
  if (c.percent || unit.empty()) {
    c.amount = amount;
    return {};
  }
  const double scale = unit == "ns"   ? 1
                       : unit == "us" ? 1e3
                       : unit == "ms" ? 1e6
                       : unit == "s"  ? 1e9
                                      : 0;
  if (scale == 0)
    return bad(text, "'" + std::string(unit) + "' is not a unit: %, or ns, us, ms, s for times");
  if (!time)
    return bad(text, "'" + std::string(t) + "': a time unit on a count; use .p50, .p99 or .mean");
  c.amount = amount * scale;
  return {};
}

util::Result<void> parse_target(std::string_view text, std::string_view t, Condition& c) {
  if (t.empty()) return bad(text, "no target before ':'");
  if (auto colon = t.find(':'); colon != std::string_view::npos) {
    const std::string_view prefix = t.substr(0, colon), rest = t.substr(colon + 1);
    if (prefix == "function") {
      if (rest.empty()) return bad(text, "'function:' needs a name");
      c.target = Condition::Target::function;
      c.name = std::string(rest);
      return {};
    }
    const auto isa = isa_from(prefix);
    const auto drill = drill_kind_from_name(prefix);
    if (!isa && !drill && prefix != "vmm")
      return bad(text, "'" + std::string(prefix) +
                           "' is not an ISA (vmx, svm, arm64, vmm) or a drill-down (port, mmio, "
                           "msr, cpuid, hypercall)");
    const auto value = parse_number(rest);
    if (!value || (!drill && *value > UINT32_MAX))
      return bad(text, "'" + std::string(rest) + "' is not a number (decimal or 0x hex)");
    if (drill) {
      c.target = Condition::Target::drill;
      c.drill = *drill;
      c.value = *value;
    } else {
      c.target = Condition::Target::code;
      c.level = isa ? Level::hardware : Level::vmm;
      c.isa = isa.value_or(Isa::none);
      c.code = static_cast<std::uint32_t>(*value);
    }
    return {};
  }
  if (t == "total") {
    c.target = Condition::Target::total;
  } else if (t == "hardware" || t == "vmm") {
    c.target = Condition::Target::level;
    c.level = t == "vmm" ? Level::vmm : Level::hardware;
  } else {
    for (char ch : t)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '|')
        return bad(text, "'" + std::string(t) + "' is not a reason name");
    c.target = Condition::Target::name;
    c.name = std::string(t);
  }
  return {};
}

bool matches(const Condition& c, const DiffRow& row, Level total_level) {
  const DiffKey& k = row.key;
  switch (c.target) {
    case Condition::Target::total:
      return k.kind == DiffKind::total && k.reason.level == total_level;
    case Condition::Target::level:
      return k.kind == DiffKind::total && k.reason.level == c.level;
    case Condition::Target::name:
      return k.kind == DiffKind::reason && iequals(row.reason_name, c.name);
    case Condition::Target::code:
      return k.kind == DiffKind::reason && k.reason.level == c.level &&
             (c.level == Level::vmm || k.reason.isa == c.isa) && k.reason.code == c.code;
    case Condition::Target::drill:
      return k.kind == DiffKind::drill && k.drill.kind == c.drill && k.drill.value == c.value &&
             !k.drill.other;
    case Condition::Target::function:
      return k.kind == DiffKind::function && k.name == c.name;
  }
  return false;
}

std::optional<double> metric_value(Condition::Metric m, const ExitStats& s, double exposure) {
  switch (m) {
    case Condition::Metric::count:
      return static_cast<double>(s.count) / exposure;
    case Condition::Metric::p50:
      if (auto v = diff_p50_ns(s)) return static_cast<double>(*v);
      return std::nullopt;
    case Condition::Metric::p99:
      if (auto v = diff_p99_ns(s)) return static_cast<double>(*v);
      return std::nullopt;
    case Condition::Metric::mean:
      return diff_mean_ns(s);
  }
  return std::nullopt;
}

}  // namespace

const char* metric_name(DiffCondition::Metric metric) {
  switch (metric) {
    case DiffCondition::Metric::count:
      return "count";
    case DiffCondition::Metric::p50:
      return "p50";
    case DiffCondition::Metric::p99:
      return "p99";
    case DiffCondition::Metric::mean:
      return "mean";
  }
  return "?";
}

util::Result<DiffCondition> parse_diff_condition(std::string_view text) {
  Condition c;
  c.text = std::string(text);
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad(text, "expected TARGET:CHANGE (no ':' in it)");
  std::string_view target = text.substr(0, colon);
  if (auto dot = target.rfind('.'); dot != std::string_view::npos) {
    const std::string_view m = target.substr(dot + 1);
    auto metric = metric_from(m);
    if (!metric)
      return bad(text, "'" + std::string(m) + "' is not a metric (count, p50, p99, mean)");
    c.metric = *metric;
    target = target.substr(0, dot);
  }
  if (auto ok = parse_target(text, target, c); !ok) return ok.error();
  if (auto ok = parse_change(text, text.substr(colon + 1), c); !ok) return ok.error();
  return c;
}

util::Result<DiffConditionOutcome> evaluate(const DiffCondition& c, const DiffResult& diff,
                                            bool require_significance) {
  // total: hardware exits where either run has any (they include the exits to the VMM).
  Level total_level = Level::vmm;
  for (const DiffRow& row : diff.rows)
    if (row.key.kind == DiffKind::total && row.key.reason.level == Level::hardware &&
        (row.a.count > 0 || row.b.count > 0))
      total_level = Level::hardware;
  DiffConditionOutcome out;
  out.condition = &c;
  ExitStats a, b;
  for (const DiffRow& row : diff.rows)
    if (matches(c, row, total_level)) {
      a += row.a;
      b += row.b;
      ++out.rows;
    }
  if (out.rows == 0 && c.target != Condition::Target::total && c.target != Condition::Target::level)
    return util::plain_error("--fail-if '" + c.text + "': matches no row of either run",
                             "reason names as the report prints them, e.g. 'io', "
                             "'IO_INSTRUCTION', 'KVM_EXIT_IO', or ISA:CODE");
  out.value_a = metric_value(c.metric, a, diff.exposure_a);
  out.value_b = metric_value(c.metric, b, diff.exposure_b);
  if (c.metric == Condition::Metric::count) {
    out.p = rate_test_p(a.count, diff.exposure_a, b.count, diff.exposure_b);
  } else if (diff_p50_ns(a) && diff_p50_ns(b)) {
    out.p = rank_test_p(a.hist, b.hist);
  }
  out.significant = out.p && *out.p < diff.options.alpha;
  if (out.value_a && out.value_b) {
    const double va = *out.value_a, vb = *out.value_b;
    const double moved = c.rise ? vb - va : va - vb;  // in the direction asked about
    if (va > 0) out.change_pct = 100.0 * (vb - va) / va;
    if (c.percent)
      out.threshold = va > 0 ? 100.0 * moved / va >= c.amount : (c.rise && vb > 0);
    else
      out.threshold = moved >= c.amount && moved > 0;
  }
  out.holds = out.threshold && (out.significant || !require_significance);
  return out;
}

}  // namespace kvmscope::model
