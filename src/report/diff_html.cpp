// The diff as one self-contained HTML page, no script: per row, A's and B's values as
// side-by-side bars (scaled to the largest value of its table), and each run's timeline of exits
// as an SVG chart on its own time axis.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/diff_render.h"
#include "report/format.h"
#include "report/html.h"
#include "report/report_labels.h"

namespace kvmscope::report {

namespace {

using model::DiffKind;
using model::DiffRow;

const char* const kStyle = R"(<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
td.l,th.l{text-align:left}
.bars{width:320px}
.bar{height:8px;margin:1px 0}
.a{background:#3b6fb6}.b{background:#e0813a}
.sig{font-weight:bold;color:#b00}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
svg{border:1px solid #ccc;background:#fafafa}
</style>)";

std::string number(double v, bool absolute) {
  return absolute ? format_count(static_cast<std::uint64_t>(std::llround(v))) : format_decimal(v);
}

std::string pct(const DiffRow& row) {
  if (!row.change_pct) return row.b.count ? "new" : "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *row.change_pct);
  return buf;
}

std::string key_text(const DiffRow& row) {
  const model::DiffKey& k = row.key;
  std::string s = k.vm.empty() ? "" : k.vm + ": ";
  switch (k.kind) {
    case DiffKind::total:
      return s + row.reason_name + " exits";
    case DiffKind::reason:
      return s + row.reason_name + " (" +
             (k.reason.level == model::Level::vmm ? "vmm" : model::isa_name(k.reason.isa)) + " " +
             row.code_text + ")";
    case DiffKind::drill: {
      std::string d = drill_detail_text(k.drill);
      return s + model::drill_kind_name(k.drill.kind) + " " + drill_value_text(k.drill) +
             (d.empty() ? "" : " " + d);
    }
    case DiffKind::function:
      return s + k.name;
  }
  return s;
}

void write_section(const std::string& title, DiffKind kind, const DiffReport& r, bool absolute,
                   std::ostream& out) {
  std::vector<const DiffRow*> rows;
  double top = 0;
  for (const DiffRow& row : r.result.rows)
    if (row.key.kind == kind) {
      rows.push_back(&row);
      top = std::max({top, row.rate_a, row.rate_b});
    }
  if (rows.empty()) return;
  out << "<h2>" << html_escape(title) << "</h2>\n<table>\n<tr><th class=l>row</th>"
      << "<th class=l>A / B</th><th>A</th><th>B</th><th>change</th><th>%</th><th>p</th>"
      << "<th>mean A</th><th>mean B</th><th>time p</th></tr>\n";
  for (const DiffRow* row : rows) {
    auto width = [&](double v) { return top > 0 ? 100.0 * v / top : 0.0; };
    char bars[256];
    std::snprintf(bars, sizeof bars,
                  "<div class=\"bar a\" style=\"width:%.1f%%\"></div>"
                  "<div class=\"bar b\" style=\"width:%.1f%%\"></div>",
                  width(row->rate_a), width(row->rate_b));
    auto mean = [](const model::ExitStats& s) {
      auto m = model::diff_mean_ns(s);
      return m ? format_duration_ns(static_cast<std::uint64_t>(std::llround(*m))) : "-";
    };
    const double change = row->change;
    out << "<tr><td class=l>" << html_escape(key_text(*row)) << "</td><td class=\"l bars\">" << bars
        << "</td><td>" << number(row->rate_a, absolute) << "</td><td>"
        << number(row->rate_b, absolute) << "</td><td"
        << (row->count_significant ? " class=sig" : "") << ">"
        << (change > 0   ? "+"
            : change < 0 ? "-"
                         : "")
        << number(std::fabs(change), absolute) << "</td><td>" << pct(*row) << "</td><td>"
        << p_value_text(row->count_p) << "</td><td>" << mean(row->a) << "</td><td"
        << (row->time_significant ? " class=sig" : "") << ">" << mean(row->b) << "</td><td>"
        << (row->time_p ? p_value_text(*row->time_p) : "-") << "</td></tr>\n";
  }
  out << "</table>\n";
}

// One run's exits per bucket (hardware exits where it has any, else exits to the VMM), as a
// filled line on its own axis.
void write_timeline(const char* name, const model::DiffInput& in, std::ostream& out) {
  const model::Timeline& t = in.analysis.timeline;
  out << "<h3>" << name << ": " << html_escape(in.label) << "</h3>\n";
  if (t.buckets() == 0) {
    out << "<p>no timeline (the input has no times per exit)</p>\n";
    return;
  }
  const model::Level level =
      t.has_level(model::Level::hardware) ? model::Level::hardware : model::Level::vmm;
  std::vector<std::uint64_t> totals(t.buckets());
  std::uint64_t top = 1;
  for (std::size_t i = 0; i < totals.size(); ++i)
    top = std::max(top, totals[i] = t.total(i, level));
  constexpr double kWidth = 900, kHeight = 160;
  const double step = kWidth / static_cast<double>(totals.size());
  out << "<svg width=\"" << kWidth << "\" height=\"" << kHeight << "\" viewBox=\"0 0 " << kWidth
      << " " << kHeight << "\"><polygon class=\"" << (name[0] == 'A' ? "a" : "b") << "\" fill=\""
      << (name[0] == 'A' ? "#3b6fb6" : "#e0813a") << "\" points=\"0," << kHeight;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    char p[64];
    const double y = kHeight - kHeight * static_cast<double>(totals[i]) / static_cast<double>(top);
    std::snprintf(p, sizeof p, " %.1f,%.1f %.1f,%.1f", step * i, y, step * (i + 1), y);
    out << p;
  }
  out << " " << kWidth << "," << kHeight << "\"/></svg>\n<p>" << level_name(level) << " exits per "
      << format_duration_ns(t.bucket_ns) << " bucket; peak " << format_count(top) << ", "
      << totals.size() << " buckets</p>\n";
}

}  // namespace

void render_diff_html(const DiffReport& r, std::ostream& out) {
  const bool absolute = r.result.options.normalisation == model::Normalisation::absolute;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>kvmscope diff: "
      << html_escape(r.a.label) << " vs " << html_escape(r.b.label) << "</title>\n"
      << kStyle << "</head><body>\n<h1>kvmscope diff</h1>\n<p class=legend><span class=a></span>A: "
      << html_escape(r.a.label) << " (" << html_escape(r.a.source) << ")"
      << "<span class=b></span>B: " << html_escape(r.b.label) << " (" << html_escape(r.b.source)
      << ")</p>\n<p>normalised: " << html_escape(diff_normalisation_text(r.result))
      << "</p>\n<p>significance: " << html_escape(diff_significance_text(r.result.options))
      << "</p>\n";
  write_section("Totals", DiffKind::total, r, absolute, out);
  write_section("Exits by reason", DiffKind::reason, r, absolute, out);
  write_section("Drill-downs", DiffKind::drill, r, absolute, out);
  write_section("Guest functions", DiffKind::function, r, absolute, out);
  out << "<h2>Timelines</h2>\n";
  write_timeline("A", r.a, out);
  write_timeline("B", r.b, out);
  if (!r.conditions.empty()) {
    out << "<h2>--fail-if</h2>\n<ul>\n";
    for (const auto& c : r.conditions)
      out << "<li>" << html_escape(c.condition->text) << ": "
          << (c.holds ? "<b class=sig>holds</b>" : "does not hold") << "</li>\n";
    out << "</ul>\n";
  }
  out << "</body></html>\n";
}

}  // namespace kvmscope::report
