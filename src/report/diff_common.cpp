// The diff's words shared by its renderers.
#include <cmath>
#include <cstdio>

#include "report/diff_render.h"
#include "report/report_labels.h"

namespace kvmscope::report {

const char* normalisation_key(model::Normalisation n) {
  switch (n) {
    case model::Normalisation::absolute:
      return "absolute";
    case model::Normalisation::per_second:
      return "per_second";
    case model::Normalisation::per_unit:
      return "per_unit";
  }
  return "?";
}

std::string diff_normalisation_text(const model::DiffResult& r) {
  switch (r.options.normalisation) {
    case model::Normalisation::absolute:
      return "absolute counts (exits in each run, as they are)";
    case model::Normalisation::per_second:
      return "exits per second of each run (A " + format_decimal(r.exposure_a) + " s, B " +
             format_decimal(r.exposure_b) + " s)";
    case model::Normalisation::per_unit:
      return "exits per unit of guest work (A " + format_decimal(r.exposure_a) + " units, B " +
             format_decimal(r.exposure_b) + " units)";
  }
  return "?";
}

std::string diff_significance_text(const model::DiffOptions& o) {
  char floor[32];
  std::snprintf(floor, sizeof floor, "%g%%", o.min_change * 100);
  char alpha[32];
  std::snprintf(alpha, sizeof alpha, "%g", o.alpha);
  return std::string(
             "counts: conditional binomial test of the two rates given the exposures "
             "(two-sided); handling times: Mann-Whitney U test on the log2 histograms "
             "(two-sided, tie-corrected); significant (*) where p < ") +
         alpha + " and the change is at least " + floor + " of A's value";
}

std::string p_value_text(double p) {
  if (p <= 0) return "<1e-300";
  char buf[32];
  if (p >= 0.001)
    std::snprintf(buf, sizeof buf, "%.3g", p);
  else
    std::snprintf(buf, sizeof buf, "%.2e", p);
  return buf;
}

}  // namespace kvmscope::report
