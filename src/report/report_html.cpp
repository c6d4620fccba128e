// The HTML report: one self-contained page. Style, Chart.js and the page's script are embedded
// (no network at view time); the tables are written here as HTML, so the page reads without
// JavaScript; the charts are drawn by report.js from the report's JSON document, embedded as
// data.
#include <sstream>

#include "model/summary.h"
#include "report/embedded_assets.h"
#include "report/format.h"
#include "report/html.h"
#include "report/percentiles.h"
#include "report/recording_notes.h"
#include "report/report.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report {

namespace {

using model::Level;
using Col = HtmlTable::Column;

constexpr std::size_t kMaxHtmlRows = 100;  // per drill-down table; all rows are in the JSON

// Runs before Chart.js, so that an error anywhere on the page is recorded.
constexpr std::string_view kErrorCapture = R"(window.__kvmscopeErrors = [];
window.addEventListener('error', function (e) {
  window.__kvmscopeErrors.push(String(e.message || e));
});
window.addEventListener('unhandledrejection', function (e) {
  window.__kvmscopeErrors.push('unhandled rejection: ' + String(e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__kvmscopeErrors.push(Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
)";

// time, avg, p50, p90, p99, p99.9, max.
std::vector<std::string> time_cells(const model::ExitStats& s) {
  if (s.timed == 0) return std::vector<std::string>(2 + kPercentileHeaders.size(), "-");
  std::vector<std::string> cells;
  for (std::uint64_t ns : {s.time_ns, s.avg_ns()}) cells.push_back(format_duration_ns(ns));
  // Times summed elsewhere (a kernel log's cycles) have no distribution.
  for (std::uint64_t ns : percentile_values(s))
    cells.push_back(has_distribution(s) ? format_duration_ns(ns) : "-");
  return cells;
}

std::vector<Col> stats_columns(std::vector<Col> first) {
  for (const char* h : {"count", "%", "rate/s", "time", "avg"}) first.push_back({h, false});
  for (const char* h : kPercentileHeaders) first.push_back({h, false});
  return first;
}

std::vector<Col> drill_columns(std::vector<Col> first) {
  for (const char* h : {"count", "%", "time", "avg"}) first.push_back({h, false});
  for (const char* h : kPercentileHeaders) first.push_back({h, false});
  return first;
}

void header(const model::RecordingAnalysisResult& a, const ReportOptions& options,
            std::ostream& out) {
  const model::Snapshot& s = a.snapshot;
  const RecordingMeta& rec = options.recording;
  out << "<h1>kvmscope report</h1>\n<p class=\"meta\">";
  if (!options.target.empty()) out << html_escape(options.target) << " &middot; ";
  out << html_escape(format_duration_ns(s.taken_ns - s.started_ns))
      << " &middot; hardware exits: " << format_count(s.total(Level::hardware))
      << " &middot; exits to the VMM: " << format_count(s.total(Level::vmm)) << "</p>\n";
  std::string where;
  if (!rec.hostname.empty()) where += "recorded on " + rec.hostname;
  if (!rec.kernel.empty()) where += (where.empty() ? "kernel " : ", kernel ") + rec.kernel;
  if (rec.realtime_offset_ns)
    where += (where.empty() ? "started " : ", started ") +
             utc_text(s.started_ns, *rec.realtime_offset_ns);
  if (!where.empty()) out << "<p class=\"meta\">" << html_escape(where) << "</p>\n";
  if (const std::string p = percentile_text(percentile_info(a)); !p.empty())
    out << "<p class=\"meta\">" << html_escape(p) << "</p>\n";
  for (const model::Marker& m : rec.markers)
    out << "<p class=\"meta\">marker at " << seconds_text(text::since_start(a, m.ts_ns)) << ": "
        << html_escape(m.label) << "</p>\n";
  for (const std::string& w : report_warnings(a, options))
    out << "<p class=\"" << (w.rfind("warning", 0) == 0 ? "warning" : "note") << "\">"
        << html_escape(w) << "</p>\n";
}

void exit_tables(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                 const ReportOptions& options, std::ostream& out) {
  const model::Snapshot& s = a.snapshot;
  out << "<h2>Exits</h2>\n";
  if (s.exits.empty()) {
    out << "<p>No KVM exits were recorded.</p>\n";
    return;
  }
  std::optional<Level> level;
  for (const model::SummaryGroup& g : model::summarize(s, options.breakdown)) {
    if (level != g.level) {
      level = g.level;
      out << "<h3>"
          << (g.level == Level::hardware
                  ? "Hardware exits (kvm:kvm_exit); time: from the exit to the next VM entry"
                  : "Exits to the VMM (kvm:kvm_userspace_exit); time: in the VMM, from the exit "
                    "to the next KVM_RUN")
          << "</h3>\n";
    }
    if (g.vm_pid) {
      std::string label = text::vm_label(s, *g.vm_pid);
      if (g.vcpu)
        label += " vCPU " + (*g.vcpu == model::kUnknownVcpu ? "?" : std::to_string(*g.vcpu));
      out << "<p class=\"meta\">" << html_escape(label) << "</p>\n";
    }
    HtmlTable table(stats_columns({{"reason", true}, {"code", false}}));
    const auto row = [&](std::string reason, std::string code, const model::ExitStats& st,
                         bool total) {
      std::vector<std::string> cells = {std::move(reason), std::move(code), format_count(st.count),
                                        format_percent(st.count, g.total.count),
                                        format_rate(st.count, s.seconds())};
      for (auto& c : time_cells(st)) cells.push_back(std::move(c));
      table.add_row(std::move(cells), total);
    };
    for (const model::SummaryRow& r : g.rows)
      row(catalog.name(r.reason), catalog.code_text(r.reason), r.stats, false);
    row("total", "", g.total, true);
    table.write(out);
  }
}

void stability_table(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                     std::ostream& out) {
  out << "<h2>Rate stability</h2>\n";
  const auto span = model::active_span(a.timeline);
  if (!span) {
    out << "<p>No exits.</p>\n";
    return;
  }
  out << "<p class=\"note\">Over the active span, "
      << seconds_text(span->first * a.timeline.bucket_ns) << " to "
      << seconds_text((span->last + 1) * a.timeline.bucket_ns) << " ("
      << format_count(span->buckets()) << " buckets of " << format_duration_ns(a.timeline.bucket_ns)
      << "): mean and standard deviation of the per-bucket rate; CV = stddev / mean.</p>\n";
  HtmlTable table({{"level", true},
                   {"reason", true},
                   {"code", false},
                   {"exits", false},
                   {"mean/s", false},
                   {"stddev/s", false},
                   {"CV", false},
                   {"peak/s", false}});
  for (const model::RateStability& r : a.stability)
    table.add_row({model::level_name(r.reason.level), catalog.name(r.reason),
                   catalog.code_text(r.reason), format_count(r.exits), format_decimal(r.mean_per_s),
                   format_decimal(r.stddev_per_s), format_ratio(r.cv),
                   format_decimal(r.peak_per_s)});
  table.write(out);
}

void bursts_table(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                  std::ostream& out) {
  const model::BurstReport& b = a.bursts;
  out << "<h2>Bursts</h2>\n<p class=\"note\">Buckets with more than " << number_text(b.rule.factor)
      << "&times; the median (" << html_escape(format_decimal(b.median_exits)) << ") "
      << (b.level == Level::hardware ? "hardware exits" : "exits to the VMM") << " and at least "
      << b.rule.min_exits << " (threshold " << format_count(b.threshold_exits)
      << "); adjacent ones joined. Found: " << b.found;
  if (b.bursts.size() < b.found) out << ", the " << b.bursts.size() << " largest listed";
  out << ".</p>\n";
  if (b.bursts.empty()) return;
  HtmlTable table({{"start", false},
                   {"duration", false},
                   {"exits", false},
                   {"peak/s", false},
                   {"top reasons", true}});
  for (const model::Burst& burst : b.bursts)
    table.add_row({seconds_text(text::since_start(a, burst.start_ns)),
                   format_duration_ns(burst.duration_ns), format_count(burst.exits),
                   format_decimal(burst.peak_per_s),
                   text::top_reasons_text(burst.top, burst.exits, catalog)});
  table.write(out);
}

void boot_tables(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                 std::ostream& out) {
  out << "<h2>Boot</h2>\n";
  bool any = false;
  for (const model::BootSummary& boot : a.boots) {
    if (!boot.start_seen() && boot.end_by == model::BootEnd::none) continue;
    any = true;
    out << "<h3>" << html_escape(text::vm_label(a.snapshot, boot.vm_pid)) << ": "
        << html_escape(format_duration_ns(boot.end_ns - boot.start_ns)) << " from "
        << html_escape(boot_start_text(boot.start_from)) << " to "
        << html_escape(boot_end_text(boot.end_by)) << "</h3>\n<p class=\"meta\">first exit ";
    if (boot.first_exit_ns) {
      out << html_escape(format_duration_ns(
                 *boot.first_exit_ns > boot.start_ns ? *boot.first_exit_ns - boot.start_ns : 0))
          << " after the start";
    } else {
      out << "never seen";
    }
    out << "; hardware exits: " << format_count(boot.hardware_exits)
        << "; exits to the VMM: " << format_count(boot.vmm_exits) << "</p>\n";
    if (!boot.complete()) out << "<p class=\"warning\">not the whole boot</p>\n";
    const Level level = boot.hardware_exits > 0 ? Level::hardware : Level::vmm;
    HtmlTable table({{"phase", true},
                     {"start", false},
                     {"end", false},
                     {"duration", false},
                     {"hw exits", false},
                     {"vmm exits", false},
                     {level == Level::hardware ? "hw exits/s" : "vmm exits/s", false},
                     {"top reasons", true}});
    for (const model::BootPhase& p : boot.phases) {
      const std::uint64_t n = level == Level::hardware ? p.hardware_exits : p.vmm_exits;
      table.add_row({p.label, seconds_text(text::since_start(a, p.begin_ns)),
                     seconds_text(text::since_start(a, p.end_ns)),
                     format_duration_ns(p.end_ns - p.begin_ns), format_count(p.hardware_exits),
                     format_count(p.vmm_exits),
                     format_rate(n, static_cast<double>(p.end_ns - p.begin_ns) / 1e9),
                     text::top_reasons_text(model::top_reasons(p, level, 3), n, catalog)});
    }
    table.write(out);
  }
  if (!any)
    out << "<p>The recording covers no boot: it neither started with a VM's command nor saw a "
           "VM end.</p>\n";
}

void drill_tables(const model::RecordingAnalysisResult& a, const ReportOptions& options,
                  std::ostream& out) {
  if (options.drilldowns.empty()) return;
  out << "<h2>Drill-downs</h2>\n<div id=\"charts-drilldowns\"></div>\n";
  for (model::DrillKind kind : options.drilldowns) {
    out << "<h3>" << html_escape(drill_title(kind)) << "</h3>\n";
    const auto tables = model::drill_tables(a.drill, kind, options.drilldowns_per_vm);
    if (tables.empty()) out << "<p>None recorded.</p>\n";
    for (const model::DrillTable& t : tables) {
      if (t.vm_pid)
        out << "<p class=\"meta\">" << html_escape(text::vm_label(a.snapshot, *t.vm_pid))
            << "</p>\n";
      HtmlTable table(drill_columns({{drill_value_header(kind), true}, {"access", true}}));
      const auto row = [&](std::string value, std::string detail, const model::ExitStats& st,
                           bool total) {
        std::vector<std::string> cells = {std::move(value), std::move(detail),
                                          format_count(st.count),
                                          format_percent(st.count, t.total.count)};
        for (auto& c : time_cells(st)) cells.push_back(std::move(c));
        table.add_row(std::move(cells), total);
      };
      std::size_t shown = 0;
      for (const model::DrillRow& r : t.rows) {
        if (shown++ == kMaxHtmlRows) break;
        row(drill_value_text(r.key), drill_detail_text(r.key), r.stats, false);
      }
      row("total", "", t.total, true);
      table.write(out);
      if (t.rows.size() > kMaxHtmlRows)
        out << "<p class=\"note\">" << format_count(t.rows.size() - kMaxHtmlRows)
            << " more rows in the embedded data and in <code>--json</code>/<code>--csv</code>."
               "</p>\n";
    }
  }
}

// The guest functions per VM and reason: charts drawn by report.js, tables here.
void guest_code_tables(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                       const ReportOptions& options, std::ostream& out) {
  if (!options.guest_code) return;
  const symbols::Attribution& g = *options.guest_code;
  out << "<h2>Guest code</h2>\n<p class=\"meta\">symbols: " << html_escape(g.symbols_desc);
  if (!g.image_desc.empty()) out << "; code: " << html_escape(g.image_desc);
  out << "</p>\n<div id=\"charts-guest-code\"></div>\n";
  for (const symbols::VmAttribution& vm : g.vms) {
    out << "<h3>" << html_escape(text::vm_label(a.snapshot, vm.vm_pid)) << "</h3>\n"
        << "<p class=\"meta\">KASLR offset " << symbols::hex(vm.offset.offset) << " ("
        << symbols::kaslr_how_name(vm.offset.how) << "); " << format_count(vm.offset.verified)
        << " of " << format_count(vm.offset.checkable)
        << " checkable exit RIPs fit; exits from the kernel " << format_count(vm.kernel_exits)
        << ", firmware/early boot " << format_count(vm.early_exits) << ", user "
        << format_count(vm.user_exits) << "</p>\n";
    for (const symbols::ReasonFunctions& r : vm.reasons) {
      out << "<h4>" << html_escape(catalog.name(r.reason)) << " (" << format_count(r.total.count)
          << " exits)</h4>\n";
      HtmlTable table(drill_columns({{"function", true}, {"busiest RIP", true}}));
      std::size_t shown = 0;
      for (const symbols::FunctionRow& f : r.functions) {
        if (shown++ == kMaxHtmlRows) break;
        std::vector<std::string> cells = {
            f.module.empty() ? f.name : f.name + " [" + f.module + "]",
            f.sites.empty() ? "" : f.sites[0].where, format_count(f.stats.count),
            format_percent(f.stats.count, r.total.count)};
        for (auto& c : time_cells(f.stats)) cells.push_back(std::move(c));
        table.add_row(std::move(cells), false);
      }
      table.write(out);
    }
  }
}

}  // namespace

void render_report_html(const model::RecordingAnalysisResult& a,
                        const model::ReasonCatalog& catalog, const ReportOptions& options,
                        std::ostream& out) {
  std::ostringstream json;
  render_report_json(a, catalog, options, json);
  const std::string title =
      "kvmscope report" + (options.target.empty() ? "" : ": " + options.target);

  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<meta name=\"generator\" content=\"kvmscope\">\n"
      << "<title>" << html_escape(title) << "</title>\n"
      << "<style>\n"
      << embedded::report_css() << "</style>\n"
      << "<script>\n"
      << kErrorCapture << "</script>\n"
      << "<script>\n"
      << embedded::chart_js() << "\n</script>\n"
      << "</head>\n<body>\n";
  header(a, options, out);
  out << "<noscript><p class=\"note\">The charts need JavaScript.</p></noscript>\n"
      << "<h2>Exit rates over time</h2>\n<div id=\"charts-timeline\"></div>\n";
  exit_tables(a, catalog, options, out);
  out << "<h2>Handling time</h2>\n<p class=\"note\">Per reason, the share of its timed exits "
         "handled within a time (log scale), from each exit's own handling time.</p>\n"
      << "<div id=\"charts-histograms\"></div>\n";
  stability_table(a, catalog, out);
  bursts_table(a, catalog, out);
  boot_tables(a, catalog, out);
  drill_tables(a, options, out);
  guest_code_tables(a, catalog, options, out);
  // The charts' verdict for the browser test (tests/browser): in the DOM, never shown.
  out << "<div id=\"kvmscope-status\" data-state=\"pending\" hidden></div>\n"
      << "<script type=\"application/json\" id=\"kvmscope-data\">\n"
      << script_safe_json(json.str()) << "</script>\n"
      << "<script>\n"
      << embedded::report_js() << "\n</script>\n"
      << "</body>\n</html>\n";
}

}  // namespace kvmscope::report
