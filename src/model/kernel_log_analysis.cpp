#include "model/kernel_log_analysis.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "model/builtin_reasons.h"
#include "model/timeline.h"

namespace kvmscope::model {

namespace {

Reason reason_of(const LogVm& vm, std::uint32_t code) {
  return {Level::hardware, vm.isa, code};
}

std::uint64_t cycles_to_ns(std::uint64_t cycles, std::uint64_t khz) {
  // cycles / (khz * 1000) s: exact in 128 bits.
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(cycles) * 1'000'000u / khz);
}

std::string vm_text(const LogVm& vm) {
  std::string text =
      vm.pid ? "VM " + std::to_string(*vm.pid) : std::string("the course-format stream");
  if (vm.instance > 1) text += " (instance " + std::to_string(vm.instance) + ")";
  return text;
}

// The report whose exit lines the tables show: the final line when it has exit lines, else the
// last report that has some.
const LogSnapshot* breakdown_of(const LogVm& vm) {
  for (auto it = vm.snapshots.rbegin(); it != vm.snapshots.rend(); ++it)
    if (!it->reasons.empty()) return &*it;
  return nullptr;
}

// Spreads `n` exits evenly over [t0, t1) into the buckets of `counts` (exact total: each
// bucket gets the rounded-down running share minus what the earlier ones got).
void spread(std::vector<std::uint64_t>& counts, std::uint64_t start, std::uint64_t width,
            std::uint64_t t0, std::uint64_t t1, std::uint64_t n) {
  if (n == 0) return;
  if (t1 <= t0) {
    counts[std::min<std::size_t>((t1 - start) / width, counts.size() - 1)] += n;
    return;
  }
  const std::uint64_t len = t1 - t0;
  std::uint64_t given = 0;
  for (std::uint64_t b = (t0 - start) / width; b < counts.size(); ++b) {
    const std::uint64_t end = std::min(t1, start + (b + 1) * width);
    const auto due =
        static_cast<std::uint64_t>(static_cast<unsigned __int128>(n) * (end - t0) / len);
    counts[b] += due - given;
    given = due;
    if (end >= t1) break;
  }
}

std::vector<std::pair<Reason, std::uint64_t>> top3(
    std::vector<std::pair<Reason, std::uint64_t>> v) {
  std::erase_if(v, [](const auto& p) { return p.second == 0; });
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > 3) v.resize(3);
  return v;
}

LogVmSummary summarize_vm(const LogVm& vm, std::optional<std::uint64_t> start,
                          std::vector<std::string>& notes) {
  LogVmSummary s;
  s.format = vm.format;
  s.pid = vm.pid;
  s.isa = vm.isa;
  s.instance = vm.instance;
  s.restart = vm.restart;
  s.suppressed_lines = vm.suppressed;
  const LogSnapshot& last = vm.snapshots.back();
  s.exits = last.exits();
  s.cycles = last.cycles;
  for (const LogSnapshot& snap : vm.snapshots)
    if (snap.tsc_khz) s.tsc_khz = snap.tsc_khz;
  if (last.final) {
    s.has_final = true;
    s.reports_printed = last.reports_printed;
    s.reports_suppressed = last.reports_suppressed;
  }
  if (const LogSnapshot* b = breakdown_of(vm)) {
    for (const auto& [code, r] : b->reasons)
      s.reasons.push_back({reason_of(vm, code), r.exits, r.cycles});
    std::stable_sort(s.reasons.begin(), s.reasons.end(),
                     [](const auto& x, const auto& y) { return x.exits > y.exits; });
    if (b != &last)
      notes.push_back(
          vm_text(vm) + ": the " + (last.final ? "final line" : "last report") + " (line " +
          std::to_string(last.line) + ") counts " + std::to_string(last.exits()) +
          " exits but has no exit lines; the tables "
          "break down line " +
          std::to_string(b->line) + "'s " + std::to_string(b->reasons_exits()) + " by reason");
  }
  const LogSnapshot* prev = nullptr;
  for (const LogSnapshot& snap : vm.snapshots) {
    LogInterval in;
    in.line = snap.line;
    in.seq = snap.seq;
    in.final = snap.final;
    if (snap.ts_ns && start) in.t_ns = *snap.ts_ns - *start;
    in.exits = snap.exits();
    in.cycles = snap.cycles;
    in.new_exits = in.exits - (prev ? prev->exits() : 0);
    if (snap.cycles && (!prev || prev->cycles))
      in.new_cycles = *snap.cycles - (prev ? *prev->cycles : 0);
    if (prev && prev->ts_ns && snap.ts_ns) in.interval_ns = *snap.ts_ns - *prev->ts_ns;
    std::vector<std::pair<Reason, std::uint64_t>> diff;
    for (const auto& [code, r] : snap.reasons) {
      std::uint64_t before = 0;
      if (prev) {
        auto p = prev->reasons.find(code);
        if (p != prev->reasons.end()) before = p->second.exits;
      }
      diff.push_back({reason_of(vm, code), r.exits - before});
    }
    if (!prev || !prev->reasons.empty()) in.top = top3(std::move(diff));
    s.intervals.push_back(std::move(in));
    prev = &snap;
  }
  return s;
}

// The names the tables use. The patch's lines carry the running kernel's own names: they go
// over the built-in tables (the kernel's VMX_EXIT_REASONS / SVM_EXIT_REASONS). The course
// format's names come from the assignment's own table ("UNKNOWN" for 29, the kernel's
// DR_ACCESS): the kernel's name stays, the log's names only codes the kernel has none for, and
// each name that differs gets one note.
ReasonCatalog catalog_of(const KernelLog& log, std::vector<std::string>& notes) {
  ReasonCatalog catalog = ReasonCatalog::builtin();
  std::map<Isa, NameTable> tables;
  std::set<Isa> from_patch;  // tables with the kernel's own names in them
  auto table = [&](Isa isa) -> NameTable& {
    auto it = tables.find(isa);
    if (it == tables.end())
      it = tables.emplace(isa, isa == Isa::svm ? builtin_svm_reasons() : builtin_vmx_reasons())
               .first;
    return it->second;
  };
  for (const LogVm& vm : log.vms)
    if (vm.format == LogFormat::patch)
      for (const LogSnapshot& snap : vm.snapshots)
        for (const auto& [code, r] : snap.reasons)
          if (!r.name.empty()) {
            table(vm.isa)[code] = r.name;
            from_patch.insert(vm.isa);
          }
  std::map<std::tuple<Isa, std::uint32_t, std::string>, std::string> differ;  // by code
  for (const LogVm& vm : log.vms) {
    if (vm.format != LogFormat::course) continue;
    const NameTable kernel = vm.isa == Isa::svm ? builtin_svm_reasons() : builtin_vmx_reasons();
    for (const LogSnapshot& snap : vm.snapshots)
      for (const auto& [code, r] : snap.reasons) {
        if (r.name.empty()) continue;
        auto k = kernel.find(code);
        if (k == kernel.end()) {
          table(vm.isa).emplace(code, r.name);
        } else if (k->second != r.name) {
          differ[{vm.isa, code, r.name}] = k->second;
        }
      }
  }
  for (const auto& [key, kernel] : differ) {
    const auto& [isa, code, name] = key;
    notes.push_back("the log calls exit " + catalog.code_text({Level::hardware, isa, code}) + " " +
                    name + "; the kernel's name is " + kernel + ", which the tables use");
  }
  for (auto& [isa, names] : tables)
    catalog.set_table(Level::hardware, isa, std::move(names),
                      from_patch.count(isa) ? NameSource::kernel : NameSource::builtin);
  return catalog;
}

}  // namespace

KernelLogAnalysis analyze_kernel_log(const KernelLog& log, std::string source,
                                     std::uint64_t bucket_ns) {
  KernelLogAnalysis out;
  KernelLogSummary& sum = out.summary;
  sum.source = std::move(source);
  sum.lines = log.lines;
  sum.patch_lines = log.patch_lines;
  sum.course_lines = log.course_lines;
  sum.notes = log.notes;
  sum.warnings = log.warnings;
  out.catalog = catalog_of(log, sum.notes);

  // Time 0: the first report; the end: the last one.
  std::optional<std::uint64_t> start, end;
  sum.timestamps = true;
  for (const LogVm& vm : log.vms)
    for (const LogSnapshot& snap : vm.snapshots) {
      if (!snap.ts_ns) {
        sum.timestamps = false;
        continue;
      }
      start = std::min(start.value_or(*snap.ts_ns), *snap.ts_ns);
      end = std::max(end.value_or(*snap.ts_ns), *snap.ts_ns);
    }
  if (!sum.timestamps) start = end = std::nullopt;

  Snapshot& snapshot = out.analysis.snapshot;
  std::map<std::pair<std::optional<std::uint32_t>, Isa>, unsigned> instances;
  bool any_course = false, untimed = false;
  for (const LogVm& vm : log.vms) {
    if (vm.snapshots.empty()) continue;
    sum.vms.push_back(summarize_vm(vm, start, sum.notes));
    const LogVmSummary& v = sum.vms.back();
    if (!v.restart.empty()) sum.notes.push_back(vm_text(vm) + " begins at " + v.restart);
    const std::uint32_t pid = vm.pid.value_or(kCourseVmPid);
    ++instances[{vm.pid, vm.isa}];
    any_course = any_course || vm.format == LogFormat::course;
    snapshot.vms[pid].name = vm.pid ? "" : "the log names no VM";
    for (const LogReasonTotal& r : v.reasons) {
      ExitStats& stats = snapshot.exits[{pid, kUnknownVcpu, r.reason}];
      stats.count += r.exits;
      if (r.cycles && v.tsc_khz && *v.tsc_khz > 0) {
        stats.timed += r.exits;
        stats.time_ns += cycles_to_ns(*r.cycles, *v.tsc_khz);
      } else if (r.cycles) {
        untimed = true;
      }
    }
  }
  for (const auto& [key, n] : instances)
    if (n > 1)
      sum.notes.push_back((key.first ? "VM " + std::to_string(*key.first)
                                     : std::string("the course-format stream")) +
                          ": " + std::to_string(n) +
                          " instances (counts went backwards); the tables sum their last reports");
  if (any_course) sum.notes.push_back("the course format has no cycle counts: no handling times");
  if (untimed) sum.notes.push_back("a VM without tsc_khz: its cycles are not turned into times");

  if (start && end && *end > *start) {
    Timeline& t = out.analysis.timeline;
    t.start_ns = *start;
    t.bucket_ns = bucket_ns ? bucket_ns : auto_bucket_ns(*end - *start);
    const std::size_t buckets = static_cast<std::size_t>((*end - *start) / t.bucket_ns) + 1;
    std::map<Reason, std::vector<std::uint64_t>> series;
    for (const LogVm& vm : log.vms)
      for (std::size_t i = 1; i < vm.snapshots.size(); ++i) {
        const LogSnapshot& a = vm.snapshots[i - 1];
        const LogSnapshot& b = vm.snapshots[i];
        for (const auto& [code, r] : b.reasons) {
          auto p = a.reasons.find(code);
          const std::uint64_t n = r.exits - (p == a.reasons.end() ? 0 : p->second.exits);
          if (n == 0) continue;
          auto& counts = series[reason_of(vm, code)];
          counts.resize(buckets);
          spread(counts, *start, t.bucket_ns, *a.ts_ns, *b.ts_ns, n);
        }
      }
    for (auto& [reason, counts] : series) {
      t.reasons.push_back(reason);
      t.counts.push_back(std::move(counts));
    }
    sum.notes.push_back(
        "timeline: each report's new exits spread evenly over the time since the report "
        "before it (the log has counts only at report times); exits before a VM's first report "
        "are in no bucket");
  } else if (!sum.timestamps) {
    sum.notes.push_back(
        "no timestamps on every report: the reports are listed by number, "
        "without a timeline");
  }
  snapshot.started_ns = start.value_or(0);
  snapshot.taken_ns = end.value_or(0);
  return out;
}

}  // namespace kvmscope::model
