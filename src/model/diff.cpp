#include "model/diff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "model/diff_stats.h"

namespace kvmscope::model {

namespace {

// A side's rows before they are paired, with the names its own catalog gives them.
struct SideRows {
  std::map<DiffKey, ExitStats> stats;
  std::map<DiffKey, std::pair<std::string, std::string>> names;  // reason name, code text
};

std::string vm_name(const Snapshot& snapshot, std::uint32_t pid) {
  auto it = snapshot.vms.find(pid);
  if (it != snapshot.vms.end() && !it->second.name.empty()) return it->second.name;
  return "pid " + std::to_string(pid);
}

DiffKey make_key(DiffKind kind, std::string vm, Reason reason = {}, DrillKey drill = {}) {
  DiffKey key;
  key.kind = kind;
  key.vm = std::move(vm);
  key.reason = reason;
  key.drill = drill;
  return key;
}

SideRows side_rows(const DiffInput& input, bool match_name) {
  SideRows out;
  const Snapshot& snapshot = input.analysis.snapshot;
  for (const auto& [key, stats] : snapshot.exits) {
    const std::string vm = match_name ? vm_name(snapshot, key.vm_pid) : std::string();
    const DiffKey reason = make_key(DiffKind::reason, vm, key.reason);
    out.stats[reason] += stats;
    out.names.try_emplace(reason, input.catalog.name(key.reason),
                          input.catalog.code_text(key.reason));
    const DiffKey total = make_key(DiffKind::total, vm, {key.reason.level, Isa::none, 0});
    out.stats[total] += stats;
    out.names.try_emplace(total, level_name(key.reason.level), "");
  }
  for (const auto& [key, stats] : input.analysis.drill.entries()) {
    DrillKey drill = key;
    drill.vm_pid = 0;
    const std::string vm = match_name ? vm_name(snapshot, key.vm_pid) : std::string();
    out.stats[make_key(DiffKind::drill, vm, {}, drill)] += stats;
  }
  return out;
}

std::set<std::string> vm_names(const Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& [key, stats] : snapshot.exits) names.insert(vm_name(snapshot, key.vm_pid));
  return names;
}

util::Result<std::pair<double, double>> exposures(const DiffInput& a, const DiffInput& b,
                                                  const DiffOptions& o) {
  switch (o.normalisation) {
    case Normalisation::absolute:
      return std::pair{1.0, 1.0};
    case Normalisation::per_second: {
      const double sa = input_seconds(a), sb = input_seconds(b);
      for (const auto* side : {&a, &b})
        if (input_seconds(*side) <= 0)
          return util::plain_error(
              side->label + " has no duration to normalise by",
              "compare absolute counts, or per unit of work (--per-a, --per-b)");
      return std::pair{sa, sb};
    }
    case Normalisation::per_unit:
      if (!(o.per_a > 0) || !(o.per_b > 0))
        return util::plain_error("--per-a and --per-b must both be positive");
      return std::pair{o.per_a, o.per_b};
  }
  return std::pair{1.0, 1.0};
}

int kind_rank(DiffKind kind) {
  return kind == DiffKind::total ? 0 : 1;
}

}  // namespace

const char* diff_kind_name(DiffKind kind) {
  switch (kind) {
    case DiffKind::total:
      return "total";
    case DiffKind::reason:
      return "reason";
    case DiffKind::drill:
      return "drill";
    case DiffKind::function:
      return "function";
  }
  return "?";
}

std::optional<std::uint64_t> diff_percentile_ns(const ExitStats& s, double q) {
  // The report's own: from the events (exact, or DDSketch within 1 %) where the input kept them.
  if (!s.sketch.empty()) return s.sketch.quantile(q);
  // Else the log2 histogram's bound, as `stat` prints it (a JSON document read back).
  if (s.timed == 0 || s.hist.total() == 0) return std::nullopt;
  return std::min(s.hist.log2_quantile_upper_bound(q), s.max_ns);
}

std::optional<std::uint64_t> diff_p50_ns(const ExitStats& s) {
  return diff_percentile_ns(s, 0.50);
}

std::optional<std::uint64_t> diff_p99_ns(const ExitStats& s) {
  return diff_percentile_ns(s, 0.99);
}

std::optional<double> diff_mean_ns(const ExitStats& s) {
  if (s.timed == 0) return std::nullopt;
  return static_cast<double>(s.time_ns) / static_cast<double>(s.timed);
}

double input_seconds(const DiffInput& input) {
  return input.analysis.snapshot.seconds();
}

bool count_change_significant(const DiffOptions& o, double p, double rate_a, double rate_b) {
  if (!(p < o.alpha)) return false;
  if (rate_a == 0) return rate_b > 0;
  return std::fabs(rate_b - rate_a) / rate_a >= o.min_change;
}

bool time_change_significant(const DiffOptions& o, std::optional<double> p,
                             std::optional<double> mean_a, std::optional<double> mean_b) {
  if (!p || !(*p < o.alpha) || !mean_a || !mean_b) return false;
  if (*mean_a == 0) return *mean_b > 0;
  return std::fabs(*mean_b - *mean_a) / *mean_a >= o.min_change;
}

util::Result<DiffResult> diff(const DiffInput& a, const DiffInput& b, const DiffOptions& options) {
  auto exposure = exposures(a, b, options);
  if (!exposure) return exposure.error();
  DiffResult result;
  result.options = options;
  std::tie(result.exposure_a, result.exposure_b) = *exposure;

  const SideRows rows_a = side_rows(a, options.match_name);
  const SideRows rows_b = side_rows(b, options.match_name);
  std::set<DiffKey> keys;
  for (const auto& [key, stats] : rows_a.stats) keys.insert(key);
  for (const auto& [key, stats] : rows_b.stats) keys.insert(key);

  for (const DiffKey& key : keys) {
    DiffRow row;
    row.key = key;
    if (auto it = rows_a.stats.find(key); it != rows_a.stats.end()) row.a = it->second;
    if (auto it = rows_b.stats.find(key); it != rows_b.stats.end()) row.b = it->second;
    // A's names where A has the row (its kernel's catalog), else B's.
    if (auto n = rows_a.names.find(key); n != rows_a.names.end())
      std::tie(row.reason_name, row.code_text) = n->second;
    else if (auto m = rows_b.names.find(key); m != rows_b.names.end())
      std::tie(row.reason_name, row.code_text) = m->second;
    row.rate_a = static_cast<double>(row.a.count) / result.exposure_a;
    row.rate_b = static_cast<double>(row.b.count) / result.exposure_b;
    row.change = row.rate_b - row.rate_a;
    if (row.rate_a > 0) row.change_pct = 100.0 * row.change / row.rate_a;
    row.count_p = rate_test_p(row.a.count, result.exposure_a, row.b.count, result.exposure_b);
    row.count_significant = count_change_significant(options, row.count_p, row.rate_a, row.rate_b);
    if (diff_p50_ns(row.a) && diff_p50_ns(row.b)) row.time_p = rank_test_p(row.a.hist, row.b.hist);
    row.time_significant =
        time_change_significant(options, row.time_p, diff_mean_ns(row.a), diff_mean_ns(row.b));
    result.rows.push_back(std::move(row));
  }
  // Totals first (hardware, then vmm), then the largest changes, whatever their direction.
  std::stable_sort(result.rows.begin(), result.rows.end(), [](const DiffRow& x, const DiffRow& y) {
    if (kind_rank(x.key.kind) != kind_rank(y.key.kind))
      return kind_rank(x.key.kind) < kind_rank(y.key.kind);
    if (x.key.kind == DiffKind::total) return x.key < y.key;
    const double cx = std::fabs(x.change), cy = std::fabs(y.change);
    if (cx != cy) return cx > cy;
    return x.key < y.key;
  });

  if (options.match_name) {
    const auto names_a = vm_names(a.analysis.snapshot), names_b = vm_names(b.analysis.snapshot);
    for (const std::string& n : names_a)
      if (!names_b.count(n))
        result.notes.push_back("VM '" + n + "' is only in A (" + a.label + ")");
    for (const std::string& n : names_b)
      if (!names_a.count(n))
        result.notes.push_back("VM '" + n + "' is only in B (" + b.label + ")");
  }
  return result;
}

}  // namespace kvmscope::model
