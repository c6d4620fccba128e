// `kvmscope diff`: two runs compared row by row. Each side is whatever the report's analysis
// made of a recording, a trace.dat, a stat/report JSON document or a kernel log; this file only
// compares. A row is keyed by what it counts (a level's total, a reason, a drill-down value, and
// later a guest function), optionally per VM matched by name; each side's counts are normalised
// by its exposure (absolute, per second of the run, per unit of guest work), and each change is
// tested against what chance explains (diff_stats.h).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/drilldown.h"
#include "model/exit_key.h"
#include "model/exit_stats.h"
#include "model/reason_catalog.h"
#include "model/recording_analysis.h"
#include "util/result.h"

namespace kvmscope::model {

// One run as the diff sees it.
struct DiffInput {
  std::string label;   // as named on the command line ("-": standard input)
  std::string source;  // "kvmscope recording", "trace.dat", "kvmscope.stat/1", "kernel log", ...
  std::string target;  // what was recorded, where the input says
  RecordingAnalysisResult analysis;  // snapshot (with its duration), drill-downs, timeline
  ReasonCatalog catalog = ReasonCatalog::builtin();
  std::vector<std::string> notes;  // what reading it noticed (damage, guessed names)
};

enum class Normalisation : std::uint8_t {
  absolute,    // counts as they are
  per_second,  // per second of the run (its duration: time 0 to the end)
  per_unit,    // per unit of guest work, given for each side (--per-a, --per-b)
};

struct DiffOptions {
  Normalisation normalisation = Normalisation::absolute;
  double per_a = 0, per_b = 0;  // per_unit: units of work done in A and in B
  bool match_name = false;      // rows per VM, VMs matched by name
  double alpha = 0.001;         // a change is significant where p < alpha ...
  double min_change = 0.05;     // ... and it is at least this fraction of A's value
};

enum class DiffKind : std::uint8_t {
  total,     // all exits of a level
  reason,    // one exit reason (level, isa, code)
  drill,     // one drill-down value (port, MMIO address, MSR, CPUID leaf, hypercall)
  function,  // one guest function (attribution); no input fills it yet
};

const char* diff_kind_name(DiffKind kind);  // "total", "reason", "drill", "function"

struct DiffKey {
  DiffKind kind = DiffKind::reason;
  std::string vm;    // match_name: the VM's name; empty: all VMs together
  Reason reason;     // total: the level; reason: the reason
  DrillKey drill;    // drill: kind, value, flags, other (vm_pid 0)
  std::string name;  // function: its name
  auto operator<=>(const DiffKey&) const = default;
};

struct DiffRow {
  DiffKey key;
  std::string reason_name;        // reason rows: the name the report prints; total rows: the level
  std::string code_text;          // reason rows: the code as the report writes it
  ExitStats a, b;                 // of each side (zero where the side has none)
  double rate_a = 0, rate_b = 0;  // count / exposure
  double change = 0;              // rate_b - rate_a
  std::optional<double> change_pct;  // 100 x change / rate_a; none where rate_a is 0
  double count_p = 1;                // rate_test_p
  bool count_significant = false;
  std::optional<double> time_p;  // rank_test_p; none without a distribution on both sides
  bool time_significant = false;
};

struct DiffResult {
  DiffOptions options;
  double exposure_a = 1, exposure_b = 1;
  std::vector<DiffRow> rows;  // totals first, then the rest by |change| descending
  std::vector<std::string> notes;
};

// The handling-time figures of a row's side, where it has them: percentiles where the times have
// a distribution (not the sums of a kernel log), the mean where any exit was timed. The report's
// own percentiles: from the events' sketch (exact up to 1,024 times, else within 1 %) where the
// input kept it (recordings), else the log2 histogram's bound as `stat` prints it (JSON
// documents). A new percentile source slots in here.
std::optional<std::uint64_t> diff_percentile_ns(const ExitStats& s, double q);
std::optional<std::uint64_t> diff_p50_ns(const ExitStats& s);
std::optional<std::uint64_t> diff_p99_ns(const ExitStats& s);
std::optional<double> diff_mean_ns(const ExitStats& s);

// The run's duration in seconds (time 0 to its end).
double input_seconds(const DiffInput& input);

// Compares B against A. Errors: a normalisation that cannot be applied (no duration, a unit
// count that is not positive).
util::Result<DiffResult> diff(const DiffInput& a, const DiffInput& b, const DiffOptions& options);

// The count test and the significance rule, for rows and for sums of rows (--fail-if).
bool count_change_significant(const DiffOptions& o, double p, double rate_a, double rate_b);
bool time_change_significant(const DiffOptions& o, std::optional<double> p,
                             std::optional<double> mean_a, std::optional<double> mean_b);

}  // namespace kvmscope::model
