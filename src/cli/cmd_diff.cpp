// kvmscope diff A B: two runs compared, B against A, reason by reason and drill-down value by
// value, each change tested against what chance explains; --fail-if turns it into a CI gate.
// Glue only: the inputs are read as `report` reads them, the comparison is model/diff, the
// outputs report/diff_*.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/output_options.h"
#include "cli/read_recording.h"
#include "model/diff.h"
#include "model/diff_condition.h"
#include "model/kernel_log_analysis.h"
#include "report/diff_json_input.h"
#include "report/diff_render.h"
#include "store/event_source.h"
#include "store/recording_format.h"
#include "util/usage.h"

namespace kvmscope::cli {

namespace {

const char* const kDiffHelp =
    R"(usage: kvmscope diff A B [options]
       kvmscope diff --dmesg A.log --dmesg B.log [options]

Compares two runs, B against A: per level and reason the count (and rate) in each, the change
(absolute and %), the handling time (p50, p99, mean) in each; the same per drill-down value
(port, MMIO address, MSR, CPUID leaf, hypercall). Each change is tested against what chance
explains and marked '*' where it is significant. Sorted by the size of the change.

A and B are each any of: a recording ('kvmscope record', or trace-cmd's trace.dat: told by its
first bytes, as 'report' reads it), a 'kvmscope stat --json' or 'report --json' document (told
by its schema), or after --dmesg a kernel log ('report --dmesg' reads it). '-' reads one of them
from standard input.

options:
  --dmesg LOG            the next input is a kernel log (both: --dmesg A --dmesg B)
  --per-second           normalise: exits per second of each run (its duration, time 0 to
                         the end) instead of absolute counts
  --per-a N, --per-b M   normalise: exits per unit of guest work, N units done in A, M in B
                         (requests served, pages loaded); both or neither
  --match name           rows per VM, the VMs of A and B paired by name (a name in only one
                         run is noted; VMs of one name in one run are summed)
  --alpha P              significance level (default 0.001)
  --min-change PCT       a significant change is also at least PCT% of A's value (default 5):
                         real runs vary more than counting noise, and a big run makes any
                         difference "significant" to a test alone
  --fail-if EXPR         exit 1 when the change EXPR describes happened (repeatable; any one
                         holding fails). By default it must also be significant (p < --alpha);
                         see --fail-on-numbers
  --fail-on-numbers      --fail-if on the numbers alone, significant or not
  --rows N               rows per drill-down table in the text (default 20; --json and --csv
                         have every row)
  --json                 one JSON document (schema kvmscope.diff/1) instead of the text
  --csv FILE             also write every row as one CSV table
  --html FILE            also write one self-contained HTML page: side-by-side bars, both
                         runs' timelines
  -o, --output FILE      the text / JSON to FILE instead of standard output
  --allow-damaged        compare a damaged recording without exit status 3
  -h, --help             this text

--fail-if EXPR:
  EXPR   := TARGET[.METRIC]:CHANGE
  TARGET := total               hardware exits where either run has any, else exits to the VMM
          | hardware | vmm      that level's total
          | NAME                a reason as the report prints it, any case: io, npf (SVM),
                                IO_INSTRUCTION (VMX), KVM_EXIT_IO (exits to the VMM)
          | ISA:CODE            vmx, svm, arm64 or vmm and the code (decimal or 0x hex): svm:0x7b
          | KIND:VALUE          port, mmio, msr, cpuid or hypercall and its value: port:0x3f8
  METRIC := count (default: the normalised count) | p50 | p99 | mean (handling time)
  CHANGE := +N% | -N%           a rise / fall of at least N% of A's value (0 to more: a rise)
          | +N | -N             at least N exits (normalised), or for times N ns (or Nus, Nms, Ns)
  A target sums every row it matches. One that matches no row of either run is a usage error.
  With significance (the default): a count change by the rate test, a time change by the rank
  test (a kernel log's times have no distribution: never significant), p < --alpha.

normalisation and significance are stated in the output's header. Counts: the conditional
binomial test of the two rates given the exposures (1 and 1, the durations, or the units of
work); handling times: the Mann-Whitney U test on the log2 histograms. Two-sided, per row.

exit status: 0 no --fail-if condition holds (or none given), 1 one holds, 2 usage error (a
--fail-if that does not parse or matches nothing included), 3 an input could not be read, or is
damaged (without --allow-damaged)

examples:
  kvmscope diff before.kvms after.kvms
  kvmscope diff before.kvms after.kvms --per-second --html diff.html
  kvmscope diff base.json new.kvms --fail-if 'total:+5%' --fail-if 'npf.p99:+20%'
  kvmscope diff a.kvms b.kvms --per-a 10000 --per-b 12000 --json -o diff.json
  kvmscope diff --dmesg old.log --dmesg new.log --fail-if 'EPT_VIOLATION:+10%'
)";

constexpr int kExitHolds = 1, kExitUsage = 2, kExitInput = 3;

struct InputSpec {
  std::string path;
  bool dmesg = false;
};

struct DiffCliOptions {
  std::vector<InputSpec> inputs;
  model::DiffOptions diff;
  std::vector<model::DiffCondition> conditions;
  bool require_significance = true;
  bool allow_damaged = false, help = false;
  bool per_second = false;
  std::optional<double> per_a, per_b;
  std::size_t max_rows = 20;
  OutputOptions out;  // --json, --csv FILE, --html, -o
};

std::optional<double> parse_positive(const std::string& text) {
  auto v = parse_decimal(text);
  if (!v || *v <= 0) return std::nullopt;
  return v;
}

util::Result<DiffCliOptions> parse(Args args) {
  DiffCliOptions o;
  OptionCursor cursor(args, "diff", kDiffHelp);
  while (cursor.next()) {
    const std::string_view name = cursor.name();
    auto value = [&]() { return cursor.value(); };
    auto output_option = parse_output_option(cursor, o.out);
    if (!output_option) return output_option.error();
    if (*output_option) continue;
    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "--dmesg") {
      auto v = cursor.path_value();
      if (!v) return v.error();
      o.inputs.push_back({*v, true});
    } else if (name == "--per-second") {
      o.per_second = true;
    } else if (name == "--per-a" || name == "--per-b") {
      auto v = value();
      if (!v) return v.error();
      auto n = parse_positive(*v);
      if (!n) return cursor.usage(std::string(name) + ": '" + *v + "' is not a positive number");
      (name == "--per-a" ? o.per_a : o.per_b) = *n;
    } else if (name == "--match") {
      auto v = value();
      if (!v) return v.error();
      if (*v != "name") return cursor.usage("--match: '" + *v + "' is not 'name'");
      o.diff.match_name = true;
    } else if (name == "--alpha") {
      auto v = value();
      if (!v) return v.error();
      auto p = parse_positive(*v);
      if (!p || *p >= 1) return cursor.usage("--alpha: '" + *v + "' is not between 0 and 1");
      o.diff.alpha = *p;
    } else if (name == "--min-change") {
      auto v = value();
      if (!v) return v.error();
      std::string t = *v;
      if (!t.empty() && t.back() == '%') t.pop_back();
      auto pct = parse_decimal(t);
      if (!pct) return cursor.usage("--min-change: '" + *v + "' is not a percentage");
      o.diff.min_change = *pct / 100;
    } else if (name == "--fail-if") {
      auto v = value();
      if (!v) return v.error();
      auto c = model::parse_diff_condition(*v);
      if (!c) return util::usage_error("diff", c.error().message());
      o.conditions.push_back(std::move(*c));
    } else if (name == "--fail-on-numbers") {
      o.require_significance = false;
    } else if (name == "--rows") {
      auto v = value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0) return cursor.usage("--rows: '" + *v + "' is not a positive number");
      o.max_rows = static_cast<std::size_t>(*n);
    } else if (name == "--allow-damaged") {
      o.allow_damaged = true;
    } else if (name == "-" || !name.starts_with("-")) {
      o.inputs.push_back({std::string(name), false});
    } else {
      return cursor.unknown();
    }
  }
  if (o.help) return o;
  if (o.inputs.size() != 2)
    return cursor.usage("two runs to compare: kvmscope diff A B (got " +
                        std::to_string(o.inputs.size()) + ")");
  if (o.inputs[0].path == "-" && o.inputs[1].path == "-")
    return cursor.usage("only one input can be standard input");
  if (o.per_a.has_value() != o.per_b.has_value())
    return cursor.usage("--per-a and --per-b go together: the work done in A and in B");
  if (o.per_a && o.per_second)
    return cursor.usage("--per-second or --per-a/--per-b: one normalisation");
  if (o.per_a) {
    o.diff.normalisation = model::Normalisation::per_unit;
    o.diff.per_a = *o.per_a;
    o.diff.per_b = *o.per_b;
  } else if (o.per_second) {
    o.diff.normalisation = model::Normalisation::per_second;
  }
  return o;
}

// Reading an input: its failure, and whether it was damaged (still compared).
struct Loaded {
  model::DiffInput input;
  bool damaged = false;
};

util::Result<Loaded> load_kernel_log(const InputSpec& spec) {
  auto log = read_kernel_log(spec.path);
  if (!log) return log.error();
  model::KernelLogAnalysis analyzed = model::analyze_kernel_log(*log, spec.path);
  Loaded out;
  out.input.label = spec.path;
  out.input.source = "kernel log";
  out.input.analysis = std::move(analyzed.analysis);
  out.input.catalog = std::move(analyzed.catalog);
  for (const std::string& w : log->warnings) out.input.notes.push_back("warning: " + w);
  return out;
}

// Rest of a descriptor after `prefix` (the bytes read to tell the format), for a JSON document.
util::Result<std::string> read_rest(store::RecordingInput& in) {
  constexpr std::size_t kMaxJson = 256u << 20;
  std::string text(in.prefix.begin(), in.prefix.end());
  char buf[65536];
  while (true) {
    const ssize_t got = ::read(in.fd.get(), buf, sizeof buf);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return util::os_error("read " + in.name, err);
    }
    if (got == 0) break;
    text.append(buf, static_cast<std::size_t>(got));
    if (text.size() > kMaxJson)
      return util::plain_error(in.name + ": a JSON document over 256 MiB");
  }
  return text;
}

bool looks_like_json(const std::vector<std::uint8_t>& head) {
  for (std::uint8_t c : head) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

util::Result<Loaded> load(const InputSpec& spec) {
  if (spec.dmesg) return load_kernel_log(spec);
  auto input = store::open_recording_input(spec.path);
  if (!input) return input.error();
  if (input->format == store::RecordingFormat::unknown && looks_like_json(input->head)) {
    auto text = read_rest(*input);
    if (!text) return text.error();
    auto json = report::diff_input_from_json(*text, spec.path);
    if (!json) return json.error();
    return Loaded{std::move(*json), false};
  }
  auto source = store::open_recording(std::move(*input));
  if (!source) return source.error();
  Loaded out;
  out.input.label = spec.path;
  // Each format by its own name ("trace.dat", "perf.data").
  const store::RecordingFormat format = (*source)->format();
  out.input.source = format == store::RecordingFormat::kvmscope
                         ? std::string("kvmscope recording")
                         : std::string(store::format_name(format));
  out.input.target = (*source)->info().target;
  if (auto catalog = (*source)->reason_catalog())
    out.input.catalog = std::move(*catalog);
  else
    out.input.notes.push_back("its format files could not be read (" + catalog.error().message() +
                              "); reason names are built-in");
  auto analyzed = analyze_events(**source, {});
  if (!analyzed) return analyzed.error();
  out.input.analysis = std::move(*analyzed);
  for (const std::string& note : (*source)->notes()) out.input.notes.push_back(note);
  if ((*source)->truncated())
    out.input.notes.push_back("warning: cut short (" + (*source)->error_detail() +
                              "): compared up to its last complete block");
  if ((*source)->lost_total() > 0)
    out.input.notes.push_back("warning: " + std::to_string((*source)->lost_total()) +
                              " events lost while recording: its counts are short by as many");
  out.damaged = (*source)->corrupt();
  return out;
}

util::Result<void> write_file(const std::string& path, const report::DiffReport& r,
                              void (*render)(const report::DiffReport&, std::ostream&)) {
  std::ofstream file(path, std::ios::out | std::ios::trunc);
  if (!file) {
    const int err = errno;
    return util::os_error("cannot write " + path, err);
  }
  render(r, file);
  file.flush();
  if (!file) {
    const int err = errno;
    return util::os_error("writing " + path, err);
  }
  return {};
}

}  // namespace

int cmd_diff(Args args) {
  auto parsed = parse(args);
  if (!parsed) return util::fail("diff", parsed.error(), kExitUsage);
  DiffCliOptions& o = *parsed;
  if (o.help) {
    std::fputs(kDiffHelp, stdout);
    return 0;
  }
  if (auto ok = check_output_paths(o.out); !ok) return util::fail("diff", ok.error(), kExitUsage);

  std::vector<Loaded> sides;
  for (const InputSpec& spec : o.inputs) {
    auto loaded = load(spec);
    if (!loaded) return util::fail("diff", loaded.error(), kExitInput);
    if (loaded->damaged)
      std::fprintf(stderr, "kvmscope diff: %s is damaged: comparing what it holds\n",
                   spec.path.c_str());
    sides.push_back(std::move(*loaded));
  }
  const model::DiffInput& a = sides[0].input;
  const model::DiffInput& b = sides[1].input;
  auto result = model::diff(a, b, o.diff);
  if (!result) return util::fail("diff", result.error(), kExitUsage);

  report::DiffReport r{*result, a, b, {}, o.require_significance, o.max_rows};
  for (const model::DiffCondition& c : o.conditions) {
    auto outcome = model::evaluate(c, *result, o.require_significance);
    if (!outcome) return util::fail("diff", outcome.error(), kExitUsage);
    r.conditions.push_back(*outcome);
  }

  std::ofstream file;
  if (!o.out.output.empty()) {
    file.open(o.out.output, std::ios::out | std::ios::trunc);
    if (!file) {
      const int err = errno;
      return util::fail("diff", util::os_error("cannot write " + o.out.output, err), kExitInput);
    }
  }
  std::ostream& out = o.out.output.empty() ? std::cout : file;
  (o.out.json ? report::render_diff_json : report::render_diff_text)(r, out);
  out.flush();
  if (!out) {
    const int err = errno;
    return util::fail("diff", util::os_error("writing the output", err), kExitInput);
  }
  if (!o.out.csv.empty())
    if (auto ok = write_file(o.out.csv, r, report::render_diff_csv); !ok)
      return util::fail("diff", ok.error(), kExitInput);
  if (!o.out.html.empty())
    if (auto ok = write_file(o.out.html, r, report::render_diff_html); !ok)
      return util::fail("diff", ok.error(), kExitInput);

  for (const Loaded& side : sides)
    if (side.damaged && !o.allow_damaged) {
      std::fprintf(stderr, "kvmscope diff: %s is damaged: exit status %d (--allow-damaged)\n",
                   side.input.label.c_str(), kExitInput);
      return kExitInput;
    }
  int status = 0;
  for (const auto& outcome : r.conditions)
    if (outcome.holds) {
      std::fprintf(stderr, "kvmscope diff: --fail-if '%s' holds\n",
                   outcome.condition->text.c_str());
      status = kExitHolds;
    }
  return status;
}

}  // namespace kvmscope::cli
