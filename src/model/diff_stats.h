// The two significance tests `kvmscope diff` applies, as plain functions of counts, so they can be
// checked against known values. Both give a two-sided p-value: the chance of a difference at
// least this large between A and B if both runs came from one process.
#pragma once

#include <cstdint>

#include "model/histogram.h"

namespace kvmscope::model {

// Counts: the conditional binomial test of two Poisson rates. Given n = count_a + count_b exits
// in all, and exposures exposure_a, exposure_b (1 and 1 for absolute counts, seconds, or units
// of work), equal rates make count_a ~ Binomial(n, exposure_a / (exposure_a + exposure_b)).
// Two-sided: twice the smaller tail, at most 1. 1 when n is 0.
double rate_test_p(std::uint64_t count_a, double exposure_a, std::uint64_t count_b,
                   double exposure_b);

// Handling times: the Mann-Whitney U test on two log2 histograms (values in one slot are ties),
// normal approximation with the tie correction and a continuity correction. 1 when either side
// is empty or every value lies in one slot.
double rank_test_p(const Histogram& a, const Histogram& b);

// P(X <= k) for X ~ Binomial(n, p), through the regularized incomplete beta function.
double binomial_cdf(std::uint64_t k, std::uint64_t n, double p);

}  // namespace kvmscope::model
