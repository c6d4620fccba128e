// One CSV file per table of the report, for spreadsheets and scripts: always the finest grain
// the analysis has (every bucket, every drill-down key), whatever the text output shows.
#include <filesystem>
#include <fstream>
#include <functional>

#include "report/csv.h"
#include "report/format.h"
#include "report/percentiles.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report {

namespace {

using Rows = std::vector<std::vector<std::string>>;
using model::Level;

std::string u(std::uint64_t v) {
  return std::to_string(v);
}

std::string rel_s(const model::RecordingAnalysisResult& a, std::uint64_t ns) {
  return seconds_number(text::since_start(a, ns));
}

std::vector<std::string> reason_fields(const model::Reason& r, const model::ReasonCatalog& c) {
  return {model::level_name(r.level), model::isa_name(r.isa), u(r.code), c.code_text(r), c.name(r)};
}

// count, timed, time_ns, avg_ns, p50_ns, p99_ns, max_ns, p90_ns, p999_ns: the percentiles from
// the row's own handling times; p90 and p99.9 came later, so they follow max (a script that
// reads the columns by position still finds the first seven where they were).
std::vector<std::string> time_fields(const model::ExitStats& s) {
  // Times summed elsewhere (a kernel log's cycles) have no distribution: empty, not 0.
  if (s.timed > 0 && !has_distribution(s))
    return {u(s.count), u(s.timed), u(s.time_ns), u(s.avg_ns()), "", "", "", "", ""};
  const auto p = percentile_values(s);  // p50, p90, p99, p99.9, max
  return {u(s.count), u(s.timed), u(s.time_ns), u(s.avg_ns()), u(p[0]),
          u(p[2]),    u(p[4]),    u(p[1]),      u(p[3])};
}

// "npf 96.8%; cpuid 2.4%" (semicolons: the cell is one field).
std::string top_text(const std::vector<std::pair<model::Reason, std::uint64_t>>& top,
                     std::uint64_t total, const model::ReasonCatalog& catalog) {
  std::string text;
  for (const auto& [reason, count] : top) {
    if (!text.empty()) text += "; ";
    text += catalog.name(reason) + " " + format_percent(count, total);
  }
  return text;
}

std::string vm_name(const model::Snapshot& s, std::uint32_t pid) {
  const auto it = s.vms.find(pid);
  return it == s.vms.end() ? std::string() : it->second.name;
}

void exits_csv(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& c,
               std::ostream& out) {
  write_csv_row(
      {"vm_pid", "vm_name", "vcpu", "level", "isa", "code", "code_text", "reason", "count", "timed",
       "time_ns", "avg_ns", "p50_ns", "p99_ns", "max_ns", "p90_ns", "p999_ns"},
      out);
  for (const auto& [key, stats] : a.snapshot.exits) {
    if (stats.count == 0) continue;
    std::vector<std::string> row = {u(key.vm_pid), vm_name(a.snapshot, key.vm_pid),
                                    key.vcpu == model::kUnknownVcpu ? "" : u(key.vcpu)};
    for (auto& f : reason_fields(key.reason, c)) row.push_back(std::move(f));
    for (auto& f : time_fields(stats)) row.push_back(std::move(f));
    write_csv_row(row, out);
  }
}

// Wide: one row per bucket, one column per reason ("hardware cpuid 0x72"), counts of exits.
void timeline_csv(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& c,
                  std::ostream& out) {
  const model::Timeline& t = a.timeline;
  std::vector<std::string> header = {"start_s", "end_s", "hardware", "vmm"};
  for (const model::Reason& r : t.reasons)
    header.push_back(std::string(model::level_name(r.level)) + " " + c.name(r) + " " +
                     c.code_text(r));
  write_csv_row(header, out);
  for (std::size_t b = 0; b < t.buckets(); ++b) {
    std::vector<std::string> row = {seconds_number(b * t.bucket_ns),
                                    seconds_number((b + 1) * t.bucket_ns),
                                    u(t.total(b, Level::hardware)), u(t.total(b, Level::vmm))};
    for (const auto& series : t.counts) row.push_back(u(series[b]));
    write_csv_row(row, out);
  }
}

void stability_csv(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& c,
                   std::ostream& out) {
  write_csv_row({"level", "isa", "code", "code_text", "reason", "exits", "mean_per_s",
                 "stddev_per_s", "cv", "peak_per_s"},
                out);
  for (const model::RateStability& r : a.stability) {
    std::vector<std::string> row = reason_fields(r.reason, c);
    for (std::string f : {u(r.exits), number_text(r.mean_per_s), number_text(r.stddev_per_s),
                          number_text(r.cv), number_text(r.peak_per_s)})
      row.push_back(std::move(f));
    write_csv_row(row, out);
  }
}

void bursts_csv(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& c,
                std::ostream& out) {
  write_csv_row({"start_s", "duration_s", "level", "exits", "peak_per_s", "top_reasons"}, out);
  for (const model::Burst& b : a.bursts.bursts)
    write_csv_row(
        {rel_s(a, b.start_ns), seconds_number(b.duration_ns), model::level_name(a.bursts.level),
         u(b.exits), number_text(b.peak_per_s), top_text(b.top, b.exits, c)},
        out);
}

// One row per phase, after one row for the whole boot (phase "(boot)").
void boot_csv(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& c,
              std::ostream& out) {
  write_csv_row({"vm_pid", "vm_name", "complete", "start", "end", "phase", "start_s", "end_s",
                 "duration_s", "hardware_exits", "vmm_exits", "exits_per_s", "top_reasons"},
                out);
  for (const model::BootSummary& boot : a.boots) {
    const Level level = boot.hardware_exits > 0 ? Level::hardware : Level::vmm;
    const auto rate = [](std::uint64_t n, std::uint64_t ns) {
      return number_text(ns ? static_cast<double>(n) * 1e9 / static_cast<double>(ns) : 0.0);
    };
    const std::vector<std::string> vm = {
        u(boot.vm_pid), vm_name(a.snapshot, boot.vm_pid), boot.complete() ? "true" : "false",
        boot_start_key(boot.start_from), boot_end_key(boot.end_by)};
    std::vector<std::string> row = vm;
    const std::uint64_t n = level == Level::hardware ? boot.hardware_exits : boot.vmm_exits;
    for (std::string f : {std::string("(boot)"), rel_s(a, boot.start_ns), rel_s(a, boot.end_ns),
                          seconds_number(boot.end_ns - boot.start_ns), u(boot.hardware_exits),
                          u(boot.vmm_exits), rate(n, boot.end_ns - boot.start_ns), std::string()})
      row.push_back(std::move(f));
    write_csv_row(row, out);
    for (const model::BootPhase& p : boot.phases) {
      row = vm;
      const std::uint64_t pn = level == Level::hardware ? p.hardware_exits : p.vmm_exits;
      for (std::string f :
           {p.label, rel_s(a, p.begin_ns), rel_s(a, p.end_ns),
            seconds_number(p.end_ns - p.begin_ns), u(p.hardware_exits), u(p.vmm_exits),
            rate(pn, p.end_ns - p.begin_ns), top_text(model::top_reasons(p, level, 3), pn, c)})
        row.push_back(std::move(f));
      write_csv_row(row, out);
    }
  }
}

void drill_csv(const model::RecordingAnalysisResult& a, model::DrillKind kind, bool per_vm,
               std::ostream& out) {
  write_csv_row({"vm_pid", "value", "value_text", "detail", "count", "percent", "timed", "time_ns",
                 "avg_ns", "p50_ns", "p99_ns", "max_ns", "p90_ns", "p999_ns"},
                out);
  for (const model::DrillTable& t : model::drill_tables(a.drill, kind, per_vm)) {
    for (const model::DrillRow& r : t.rows) {
      const double percent =
          t.total.count ? 100.0 * static_cast<double>(r.stats.count) / t.total.count : 0.0;
      std::vector<std::string> row = {
          t.vm_pid ? u(*t.vm_pid) : "", u(r.key.value),   drill_value_text(r.key),
          drill_detail_text(r.key),     u(r.stats.count), number_text(percent)};
      const auto times = time_fields(r.stats);
      row.insert(row.end(), times.begin() + 1, times.end());  // count is already there
      write_csv_row(row, out);
    }
  }
}

util::Result<void> write_file(const std::filesystem::path& path,
                              const std::function<void(std::ostream&)>& write) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    const int err = errno;
    return util::os_error("create " + path.string(), err);
  }
  write(file);
  file.flush();
  if (!file) {
    const int err = errno;
    return util::os_error("write " + path.string(), err);
  }
  return {};
}

}  // namespace

util::Result<void> write_report_csv(const std::string& dir, const model::RecordingAnalysisResult& a,
                                    const model::ReasonCatalog& c, const ReportOptions& options) {
  // DIR itself, never the directories above it: a mistyped path must not make a tree.
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  if (ec) return util::os_error("create directory " + dir, ec.value());
  const std::filesystem::path base(dir);
  using Writer = std::function<void(std::ostream&)>;
  std::vector<std::pair<std::string, Writer>> files = {
      {"exits.csv", [&](std::ostream& o) { exits_csv(a, c, o); }},
      {"timeline.csv", [&](std::ostream& o) { timeline_csv(a, c, o); }},
      {"stability.csv", [&](std::ostream& o) { stability_csv(a, c, o); }},
      {"bursts.csv", [&](std::ostream& o) { bursts_csv(a, c, o); }},
      {"boot.csv", [&](std::ostream& o) { boot_csv(a, c, o); }},
  };
  for (model::DrillKind kind : options.drilldowns)
    files.emplace_back(
        std::string("drill_") + model::drill_kind_name(kind) + ".csv",
        [&, kind](std::ostream& o) { drill_csv(a, kind, options.drilldowns_per_vm, o); });
  if (options.guest_code) {
    files.emplace_back("guest_functions.csv", [&](std::ostream& o) {
      write_guest_functions_csv(*options.guest_code, c, o);
    });
    files.emplace_back("guest_sites.csv",
                       [&](std::ostream& o) { write_guest_sites_csv(*options.guest_code, c, o); });
  }
  for (const auto& [name, writer] : files) {
    auto written = write_file(base / name, writer);
    if (!written) return written;
  }
  return {};
}

}  // namespace kvmscope::report
