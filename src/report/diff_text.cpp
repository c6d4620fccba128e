// The diff as text: a header saying what was compared, how it was normalised and tested, then
// the totals, the reasons and the drill-down values, each sorted by the size of the change.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "report/diff_render.h"
#include "report/format.h"
#include "report/report_labels.h"

namespace kvmscope::report {

namespace {

using model::DiffKind;
using model::DiffRow;
using Align = TextTable::Align;

std::string signed_text(double v, bool absolute) {
  const double magnitude = std::fabs(v);
  std::string digits = absolute ? format_count(static_cast<std::uint64_t>(std::llround(magnitude)))
                                : format_decimal(magnitude);
  if (digits == "0") return "0";
  return (v < 0 ? "-" : "+") + digits;
}

std::string value_text(double v, bool absolute) {
  return absolute ? format_count(static_cast<std::uint64_t>(std::llround(v))) : format_decimal(v);
}

std::string pct_text(const DiffRow& row) {
  if (!row.change_pct) return row.b.count ? "new" : "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *row.change_pct);
  return buf;
}

std::string time_text(std::optional<std::uint64_t> ns) {
  return ns ? format_duration_ns(*ns) : "-";
}

std::string mean_text(std::optional<double> ns) {
  return ns ? format_duration_ns(static_cast<std::uint64_t>(std::llround(*ns))) : "-";
}

std::string side_text(const model::DiffInput& in) {
  std::string s = printable(in.label) + " (" + in.source;
  if (!in.target.empty()) s += "; " + printable(in.target);
  const double seconds = model::input_seconds(in);
  if (seconds > 0) s += "; " + format_decimal(seconds) + " s";
  return s + ")";
}

struct Columns {
  bool vm = false, normalised = false;
};

// The cells every table shares after its key cells: counts (and rates), change, the count test,
// then the handling times of both sides and the time test.
void add_value_cells(const DiffRow& row, const Columns& c, std::vector<std::string>& cells) {
  cells.push_back(format_count(row.a.count));
  cells.push_back(format_count(row.b.count));
  if (c.normalised) {
    cells.push_back(format_decimal(row.rate_a));
    cells.push_back(format_decimal(row.rate_b));
  }
  cells.push_back(signed_text(row.change, !c.normalised));
  cells.push_back(pct_text(row));
  cells.push_back(row.count_significant ? "*" : "");
  cells.push_back(time_text(model::diff_p50_ns(row.a)));
  cells.push_back(time_text(model::diff_p50_ns(row.b)));
  cells.push_back(time_text(model::diff_p99_ns(row.a)));
  cells.push_back(time_text(model::diff_p99_ns(row.b)));
  cells.push_back(mean_text(model::diff_mean_ns(row.a)));
  cells.push_back(mean_text(model::diff_mean_ns(row.b)));
  cells.push_back(row.time_significant ? "*" : "");
}

std::vector<std::string> value_headers(const Columns& c) {
  std::vector<std::string> h{"A", "B"};
  if (c.normalised) {
    h[0] = "count A";
    h[1] = "count B";
    h.push_back("rate A");
    h.push_back("rate B");
  }
  for (const char* s :
       {"change", "%", "", "p50 A", "p50 B", "p99 A", "p99 B", "mean A", "mean B", ""})
    h.emplace_back(s);
  return h;
}

std::vector<Align> aligns(std::size_t key_columns, const Columns& c) {
  std::vector<Align> a(key_columns, Align::left);
  a.resize(key_columns + value_headers(c).size(), Align::right);
  a[key_columns + (c.normalised ? 6 : 4)] = Align::left;  // the count test's '*'
  a.back() = Align::left;
  return a;
}

void write_section(const std::string& title, DiffKind kind, const DiffReport& r, const Columns& c,
                   std::size_t max_rows, std::ostream& out) {
  std::vector<const DiffRow*> rows;
  for (const DiffRow& row : r.result.rows)
    if (row.key.kind == kind) rows.push_back(&row);
  if (rows.empty()) return;
  std::vector<std::string> keys;
  if (c.vm) keys.push_back("vm");
  switch (kind) {
    case DiffKind::total:
      keys.push_back("level");
      break;
    case DiffKind::reason:
      for (const char* k : {"level", "isa", "code", "reason"}) keys.emplace_back(k);
      break;
    case DiffKind::drill:
      for (const char* k : {"kind", "value", "detail"}) keys.emplace_back(k);
      break;
    case DiffKind::function:
      keys.push_back("function");
      break;
  }
  TextTable table(aligns(keys.size(), c));
  std::vector<std::string> header = keys;
  for (auto& h : value_headers(c)) header.push_back(h);
  table.add_row(header);
  std::size_t shown = 0;
  for (const DiffRow* row : rows) {
    if (shown == max_rows) break;
    ++shown;
    std::vector<std::string> cells;
    if (c.vm) cells.push_back(printable(row->key.vm));
    switch (kind) {
      case DiffKind::total:
        cells.push_back(row->reason_name);
        break;
      case DiffKind::reason:
        cells.push_back(model::level_name(row->key.reason.level));
        cells.push_back(row->key.reason.level == model::Level::vmm
                            ? "-"
                            : model::isa_name(row->key.reason.isa));
        cells.push_back(row->code_text);
        cells.push_back(row->reason_name);
        break;
      case DiffKind::drill:
        cells.push_back(model::drill_kind_name(row->key.drill.kind));
        cells.push_back(drill_value_text(row->key.drill));
        cells.push_back(drill_detail_text(row->key.drill));
        break;
      case DiffKind::function:
        cells.push_back(printable(row->key.name));
        break;
    }
    add_value_cells(*row, c, cells);
    table.add_row(std::move(cells));
  }
  out << "\n" << title << "\n";
  table.write(out);
  if (rows.size() > shown)
    out << "(" << rows.size() - shown << " more rows: --rows N, or --json / --csv for all)\n";
}

std::string outcome_text(const model::DiffConditionOutcome& o, bool normalised) {
  auto value = [&](std::optional<double> v) {
    if (!v) return std::string("-");
    if (o.condition->metric != model::DiffCondition::Metric::count)
      return format_duration_ns(static_cast<std::uint64_t>(std::llround(*v)));
    return value_text(*v, !normalised);
  };
  std::string s = value(o.value_a) + " -> " + value(o.value_b);
  if (o.change_pct) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%+.1f%%)", *o.change_pct);
    s += buf;
  }
  s += o.p ? ", p " + p_value_text(*o.p) : ", not testable";
  s += o.significant ? ", significant" : ", not significant";
  return s;
}

}  // namespace

void render_diff_text(const DiffReport& r, std::ostream& out) {
  const Columns c{r.result.options.match_name,
                  r.result.options.normalisation != model::Normalisation::absolute};
  out << "A: " << side_text(r.a) << "\n";
  out << "B: " << side_text(r.b) << "\n";
  out << "normalised: " << diff_normalisation_text(r.result) << "\n";
  out << "significance: " << diff_significance_text(r.result.options) << "\n";
  if (r.result.rows.empty()) out << "\nNo exits in either run.\n";
  write_section("Totals", DiffKind::total, r, c, SIZE_MAX, out);
  write_section("Exits by reason, largest change first", DiffKind::reason, r, c, SIZE_MAX, out);
  write_section("Drill-downs, largest change first", DiffKind::drill, r, c, r.max_rows, out);
  write_section("Guest functions, largest change first", DiffKind::function, r, c, r.max_rows, out);
  if (!r.conditions.empty()) {
    out << "\n--fail-if"
        << (r.require_significance ? " (the change must be significant too)"
                                   : " (on the numbers alone)")
        << "\n";
    TextTable table({Align::left, Align::left, Align::left});
    for (const auto& o : r.conditions)
      table.add_row({"  " + o.condition->text, o.holds ? "HOLDS" : "does not hold",
                     outcome_text(o, c.normalised)});
    table.write(out);
  }
  std::vector<std::string> notes;
  for (const auto& n : r.a.notes) notes.push_back("A: " + n);
  for (const auto& n : r.b.notes) notes.push_back("B: " + n);
  for (const auto& n : r.result.notes) notes.push_back(n);
  if (!notes.empty()) {
    out << "\n";
    for (const auto& n : notes) out << "note: " << printable(n) << "\n";
  }
}

}  // namespace kvmscope::report
