// The diff as one CSV table: every row of the JSON document's `rows`, the same fields.
#include <type_traits>

#include "report/csv.h"
#include "report/diff_render.h"
#include "report/report_labels.h"

namespace kvmscope::report {

namespace {

template <class T>
std::string cell(const std::optional<T>& v) {
  if (!v) return "";
  if constexpr (std::is_floating_point_v<T>)
    return number_text(*v);
  else
    return std::to_string(*v);
}

}  // namespace

void render_diff_csv(const DiffReport& r, std::ostream& out) {
  write_csv_row({"kind",      "vm",       "level",      "isa",       "code",
                 "code_text", "reason",   "drill_kind", "value",     "value_text",
                 "detail",    "function", "count_a",    "count_b",   "rate_a",
                 "rate_b",    "change",   "change_pct", "count_p",   "count_significant",
                 "timed_a",   "timed_b",  "mean_ns_a",  "mean_ns_b", "p50_ns_a",
                 "p50_ns_b",  "p99_ns_a", "p99_ns_b",   "time_p",    "time_significant"},
                out);
  for (const model::DiffRow& row : r.result.rows) {
    const model::DiffKey& k = row.key;
    const bool reason = k.kind == model::DiffKind::reason;
    const bool level = reason || k.kind == model::DiffKind::total;
    const bool drill = k.kind == model::DiffKind::drill;
    write_csv_row({model::diff_kind_name(k.kind),
                   k.vm,
                   level ? model::level_name(k.reason.level) : "",
                   reason ? model::isa_name(k.reason.isa) : "",
                   reason ? std::to_string(k.reason.code) : "",
                   reason ? row.code_text : "",
                   reason ? row.reason_name : "",
                   drill ? model::drill_kind_name(k.drill.kind) : "",
                   drill ? std::to_string(k.drill.value) : "",
                   drill ? drill_value_text(k.drill) : "",
                   drill ? drill_detail_text(k.drill) : "",
                   k.kind == model::DiffKind::function ? k.name : "",
                   std::to_string(row.a.count),
                   std::to_string(row.b.count),
                   number_text(row.rate_a),
                   number_text(row.rate_b),
                   number_text(row.change),
                   cell(row.change_pct),
                   number_text(row.count_p),
                   row.count_significant ? "true" : "false",
                   std::to_string(row.a.timed),
                   std::to_string(row.b.timed),
                   cell(model::diff_mean_ns(row.a)),
                   cell(model::diff_mean_ns(row.b)),
                   cell(model::diff_p50_ns(row.a)),
                   cell(model::diff_p50_ns(row.b)),
                   cell(model::diff_p99_ns(row.a)),
                   cell(model::diff_p99_ns(row.b)),
                   cell(row.time_p),
                   row.time_significant ? "true" : "false"},
                  out);
  }
}

}  // namespace kvmscope::report
