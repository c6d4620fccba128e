// `kvmscope diff --fail-if EXPR`: a condition on the change between A and B that fails a CI job.
//
//   EXPR   := TARGET [ '.' METRIC ] ':' CHANGE
//   TARGET := 'total'                   hardware exits where either run has any, else exits to
//                                       the VMM (every exit to the VMM is a hardware exit too)
//           | 'hardware' | 'vmm'        the level's total
//           | NAME                      a reason as the report prints it, any case: 'io', 'npf'
//                                       (SVM), 'IO_INSTRUCTION' (VMX), 'KVM_EXIT_IO' (VMM)
//           | ISA ':' CODE              vmx, svm, arm64 or vmm, and the code in decimal or 0x hex
//           | DRILL ':' VALUE           port, mmio, msr, cpuid or hypercall, and the value
//           | 'function:' NAME          a guest function (once attribution fills such rows)
//   METRIC := 'count' (the default: the normalised count) | 'p50' | 'p99' | 'mean'
//   CHANGE := ('+' | '-') NUMBER '%'    a rise / fall of at least that percentage of A's value
//           | ('+' | '-') NUMBER [UNIT] at least that much, in the metric's unit (exits, or for
//                                       times ns, with ns, us, ms or s after the number)
// The last ':' separates the change, so 'svm:0x7b.p99:+20%' reads. A target sums every row it
// matches (all VMs, all drill-down directions). From 0 to more is an infinite rise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/diff.h"
#include "util/result.h"

namespace kvmscope::model {

struct DiffCondition {
  enum class Target : std::uint8_t { total, level, name, code, drill, function };
  enum class Metric : std::uint8_t { count, p50, p99, mean };
  std::string text;  // as given
  Target target = Target::total;
  Level level = Level::hardware;  // level; code (with isa)
  Isa isa = Isa::none;
  std::uint32_t code = 0;
  DrillKind drill = DrillKind::port;
  std::uint64_t value = 0;  // drill
  std::string name;         // name, function
  Metric metric = Metric::count;
  bool rise = true;     // '+': B above A; '-': B below A
  bool percent = true;  // amount is a percentage of A's value
  double amount = 0;    // in percent, exits (normalised) or ns
};

// Parses one --fail-if expression; the error names the token that is wrong.
util::Result<DiffCondition> parse_diff_condition(std::string_view text);

const char* metric_name(DiffCondition::Metric metric);  // "count", "p50", "p99", "mean"

struct DiffConditionOutcome {
  const DiffCondition* condition = nullptr;
  std::size_t rows = 0;                    // rows of the diff it matched
  std::optional<double> value_a, value_b;  // none: the metric has no value on that side
  std::optional<double> change_pct;
  std::optional<double> p;  // the test of the summed rows; none where it cannot be tested
  bool significant = false;
  bool threshold = false;  // the change reaches the amount
  bool holds = false;      // threshold, and significant unless significance is not required
};

// Evaluates a condition on a diff. require_significance: the change must also be significant
// (DiffOptions' alpha, without the min_change floor: the condition's amount is the floor).
// Errors: the target matches no row of either run (a misspelt name would never fail a job).
util::Result<DiffConditionOutcome> evaluate(const DiffCondition& condition, const DiffResult& diff,
                                            bool require_significance);

}  // namespace kvmscope::model
