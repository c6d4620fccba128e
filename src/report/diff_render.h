// `kvmscope diff` rendered: a text table sorted by the size of the change, one JSON document
// (schema kvmscope.diff/1, docs/json-schema.md), one CSV table, one self-contained HTML page
// with side-by-side bars and both runs' timelines. Pure functions of the diff.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "model/diff.h"
#include "model/diff_condition.h"

namespace kvmscope::report {

struct DiffReport {
  const model::DiffResult& result;
  const model::DiffInput& a;
  const model::DiffInput& b;
  std::vector<model::DiffConditionOutcome> conditions;  // --fail-if, in the order given
  bool require_significance = true;  // --fail-if conditions also need a significant change
  std::size_t max_rows = 20;         // text: rows per drill-down table
};

void render_diff_text(const DiffReport& report, std::ostream& out);
void render_diff_json(const DiffReport& report, std::ostream& out);
void render_diff_csv(const DiffReport& report, std::ostream& out);
void render_diff_html(const DiffReport& report, std::ostream& out);

// The header's sentences, the same in every output.
std::string diff_normalisation_text(const model::DiffResult& result);
std::string diff_significance_text(const model::DiffOptions& options);
// "absolute", "per_second", "per_unit".
const char* normalisation_key(model::Normalisation n);
// A p-value with three significant digits ("0.0123", "4.56e-09"); "<1e-300" below doubles' reach.
std::string p_value_text(double p);

}  // namespace kvmscope::report
