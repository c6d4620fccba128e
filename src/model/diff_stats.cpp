#include "model/diff_stats.h"

#include <algorithm>
#include <cmath>

namespace kvmscope::model {

namespace {

// Continued fraction of the incomplete beta function (modified Lentz), as in Numerical Recipes'
// betacf; converges quickly for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 10000;
  constexpr double kEpsilon = 1e-15, kTiny = 1e-300;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEpsilon) break;
  }
  return h;
}

// I_x(a, b), the regularized incomplete beta function.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

double binomial_cdf(std::uint64_t k, std::uint64_t n, double p) {
  if (k >= n) return 1.0;
  if (p <= 0.0) return 1.0;
  if (p >= 1.0) return 0.0;
  // P(X <= k) = I_{1-p}(n - k, k + 1).
  return incomplete_beta(static_cast<double>(n - k), static_cast<double>(k) + 1.0, 1.0 - p);
}

double rate_test_p(std::uint64_t count_a, double exposure_a, std::uint64_t count_b,
                   double exposure_b) {
  const std::uint64_t n = count_a + count_b;
  if (n == 0 || exposure_a <= 0.0 || exposure_b <= 0.0) return 1.0;
  const double p = exposure_a / (exposure_a + exposure_b);
  const double lower = binomial_cdf(count_a, n, p);                                 // P(X <= a)
  const double upper = count_a == 0 ? 1.0 : 1.0 - binomial_cdf(count_a - 1, n, p);  // P(X >= a)
  return std::clamp(2.0 * std::min(lower, upper), 0.0, 1.0);
}

double rank_test_p(const Histogram& hist_a, const Histogram& hist_b) {
  // On the log2 view: what a document read back (hist_log2_ns) has too, so recordings and
  // documents are compared alike.
  const auto a = hist_a.log2_slots(), b = hist_b.log2_slots();
  double n1 = 0, n2 = 0;
  for (std::size_t i = 0; i < kLog2Slots; ++i) {
    n1 += static_cast<double>(a[i]);
    n2 += static_cast<double>(b[i]);
  }
  if (n1 == 0 || n2 == 0) return 1.0;
  // U of A: for each value of A, the values of B below it, ties counting one half.
  long double u = 0, ties = 0, b_below = 0;
  for (std::size_t i = 0; i < kLog2Slots; ++i) {
    const long double ai = a[i], bi = b[i], t = ai + bi;
    u += ai * (b_below + bi / 2.0L);
    b_below += bi;
    ties += t * t * t - t;
  }
  const long double n = n1 + n2;
  const long double variance =
      static_cast<long double>(n1) * n2 / 12.0L * ((n + 1.0L) - ties / (n * (n - 1.0L)));
  if (variance <= 0) return 1.0;
  const long double mean = static_cast<long double>(n1) * n2 / 2.0L;
  const long double distance = std::max(0.0L, std::fabs(u - mean) - 0.5L);
  const double z = static_cast<double>(distance / std::sqrt(variance));
  return std::clamp(std::erfc(z / std::sqrt(2.0)), 0.0, 1.0);
}

}  // namespace kvmscope::model
