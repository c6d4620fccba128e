// The diff as one JSON document, schema kvmscope.diff/1 (docs/json-schema.md).
#include <type_traits>

#include "report/diff_render.h"
#include "report/json_literals.h"
#include "report/report_labels.h"

namespace kvmscope::report {

namespace {

using model::DiffKind;
using model::DiffRow;

template <class T>
void optional_number(std::ostream& out, const std::optional<T>& v) {
  if (!v) {
    out << "null";
  } else if constexpr (std::is_floating_point_v<T>) {
    out << number_text(*v);
  } else {
    out << *v;
  }
}

void write_side(const char* name, const model::DiffInput& in, double exposure, std::ostream& out) {
  const model::Snapshot& s = in.analysis.snapshot;
  out << "  " << json_string(name) << ": {\"input\": " << json_string(in.label)
      << ", \"source\": " << json_string(in.source) << ", \"target\": " << json_string(in.target)
      << ", \"duration_s\": "
      << json_seconds(s.taken_ns > s.started_ns ? s.taken_ns - s.started_ns : 0)
      << ", \"exposure\": " << number_text(exposure)
      << ", \"totals\": {\"hardware\": " << s.total(model::Level::hardware)
      << ", \"vmm\": " << s.total(model::Level::vmm) << "}, \"notes\": [";
  for (std::size_t i = 0; i < in.notes.size(); ++i)
    out << (i ? ", " : "") << json_string(in.notes[i]);
  out << "]},\n";
}

void write_row(const DiffRow& row, std::ostream& out) {
  const model::DiffKey& k = row.key;
  const bool reason = k.kind == DiffKind::reason, total = k.kind == DiffKind::total;
  out << "    {\"kind\": " << json_string(model::diff_kind_name(k.kind)) << ", \"vm\": ";
  if (k.vm.empty())
    out << "null";
  else
    out << json_string(k.vm);
  out << ", \"level\": ";
  if (reason || total)
    out << json_string(model::level_name(k.reason.level));
  else
    out << "null";
  if (reason)
    out << ", \"isa\": " << json_string(model::isa_name(k.reason.isa))
        << ", \"code\": " << k.reason.code << ", \"code_text\": " << json_string(row.code_text)
        << ", \"reason\": " << json_string(row.reason_name);
  else
    out << ", \"isa\": null, \"code\": null, \"code_text\": null, \"reason\": null";
  if (k.kind == DiffKind::drill)
    out << ", \"drill\": {\"kind\": " << json_string(model::drill_kind_name(k.drill.kind))
        << ", \"value\": " << k.drill.value
        << ", \"value_text\": " << json_string(drill_value_text(k.drill))
        << ", \"detail\": " << json_string(drill_detail_text(k.drill))
        << ", \"other\": " << (k.drill.other ? "true" : "false") << "}";
  else
    out << ", \"drill\": null";
  out << ", \"function\": ";
  if (k.kind == DiffKind::function)
    out << json_string(k.name);
  else
    out << "null";
  out << ", \"count_a\": " << row.a.count << ", \"count_b\": " << row.b.count
      << ", \"rate_a\": " << number_text(row.rate_a) << ", \"rate_b\": " << number_text(row.rate_b)
      << ", \"change\": " << number_text(row.change) << ", \"change_pct\": ";
  optional_number(out, row.change_pct);
  out << ", \"count_p\": " << number_text(row.count_p)
      << ", \"count_significant\": " << (row.count_significant ? "true" : "false");
  const std::pair<const char*, const model::ExitStats*> sides[] = {{"a", &row.a}, {"b", &row.b}};
  for (const auto& [side, s] : sides) {
    out << ", \"timed_" << side << "\": " << s->timed << ", \"mean_ns_" << side << "\": ";
    optional_number(out, model::diff_mean_ns(*s));
    out << ", \"p50_ns_" << side << "\": ";
    optional_number(out, model::diff_p50_ns(*s));
    out << ", \"p99_ns_" << side << "\": ";
    optional_number(out, model::diff_p99_ns(*s));
  }
  out << ", \"time_p\": ";
  optional_number(out, row.time_p);
  out << ", \"time_significant\": " << (row.time_significant ? "true" : "false") << "}";
}

}  // namespace

void render_diff_json(const DiffReport& r, std::ostream& out) {
  const model::DiffOptions& o = r.result.options;
  out << "{\n  \"schema\": \"kvmscope.diff/1\",\n";
  write_side("a", r.a, r.result.exposure_a, out);
  write_side("b", r.b, r.result.exposure_b, out);
  out << "  \"normalisation\": {\"mode\": " << json_string(normalisation_key(o.normalisation))
      << ", \"text\": " << json_string(diff_normalisation_text(r.result)) << "},\n";
  out << "  \"significance\": {\"counts\": \"conditional_binomial\", \"times\": "
         "\"mann_whitney_u_log2\", \"alpha\": "
      << number_text(o.alpha) << ", \"min_change_pct\": " << number_text(o.min_change * 100)
      << ", \"text\": " << json_string(diff_significance_text(o)) << "},\n";
  out << "  \"match\": " << (o.match_name ? "\"name\"" : "\"all\"") << ",\n";
  out << "  \"rows\": [";
  for (std::size_t i = 0; i < r.result.rows.size(); ++i) {
    out << (i ? ",\n" : "\n");
    write_row(r.result.rows[i], out);
  }
  out << (r.result.rows.empty() ? "],\n" : "\n  ],\n");
  out << "  \"fail_if\": {\"require_significance\": " << (r.require_significance ? "true" : "false")
      << ", \"conditions\": [";
  for (std::size_t i = 0; i < r.conditions.size(); ++i) {
    const auto& c = r.conditions[i];
    out << (i ? ", " : "") << "{\"expr\": " << json_string(c.condition->text)
        << ", \"metric\": " << json_string(model::metric_name(c.condition->metric))
        << ", \"rows\": " << c.rows << ", \"value_a\": ";
    optional_number(out, c.value_a);
    out << ", \"value_b\": ";
    optional_number(out, c.value_b);
    out << ", \"change_pct\": ";
    optional_number(out, c.change_pct);
    out << ", \"p\": ";
    optional_number(out, c.p);
    out << ", \"significant\": " << (c.significant ? "true" : "false")
        << ", \"threshold_reached\": " << (c.threshold ? "true" : "false")
        << ", \"holds\": " << (c.holds ? "true" : "false") << "}";
  }
  out << "]},\n  \"notes\": [";
  for (std::size_t i = 0; i < r.result.notes.size(); ++i)
    out << (i ? ", " : "") << json_string(r.result.notes[i]);
  out << "]\n}\n";
}

}  // namespace kvmscope::report
