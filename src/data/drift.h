// Drift metrics between a reference and a current sample: distances (Jensen-Shannon, PSI,
// Wasserstein, L-infinity), two-sample tests (Kolmogorov-Smirnov, chi-squared) and the binning
// and special functions they need. Pure functions over caller-owned data; safe from any thread.
// Definitions, binning conventions and the scipy function each one matches: docs/drift.md.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

// ---- Binning --------------------------------------------------------------------------------

// Sturges' rule: ceil(log2(n)) + 1 bins for n values (1 bin for n <= 1).
int SturgesBins(int64_t n);

// Equal-width bins: edges.size() == counts.size() + 1. Counts are weights (doubles) so a
// histogram estimated from a weighted summary has the same type as one counted from rows.
struct Histogram {
  std::vector<double> edges;
  std::vector<double> counts;
};

// Both samples binned on the same edges.
struct PairedHistogram {
  std::vector<double> edges;
  std::vector<double> reference_counts;
  std::vector<double> current_counts;
};

// `bins` equal-width bins over [lo, hi] with numpy.histogram's conventions: edges are
// numpy.linspace(lo, hi, bins + 1), each bin is [left, right) except the last, which is closed.
// lo == hi widens the range to [lo - 0.5, lo + 0.5] as numpy does. Values outside the range and
// NaNs are not counted.
Result<Histogram> EqualWidthHistogram(std::span<const double> values, double lo, double hi,
                                      int bins);

// Both samples on `bins` equal-width bins over their combined [min, max] (NaNs ignored).
// bins == 0 picks SturgesBins(reference.size() + current.size()).
Result<PairedHistogram> EqualWidthHistograms(std::span<const double> reference,
                                             std::span<const double> current, int bins = 0);

// ---- Distances between binned distributions ----------------------------------------------
// Counts are non-negative weights per bin (or per category), aligned by index; each side is
// normalised to proportions, so the two totals need not match.

// sqrt of the Jensen-Shannon divergence with base-2 logarithms, in [0, 1]: 0 for identical
// distributions, 1 for disjoint ones. scipy.spatial.distance.jensenshannon(p, q, base=2).
Result<double> JensenShannonDistance(std::span<const double> p_counts,
                                     std::span<const double> q_counts);

// The empty-bin rule for PSI: a proportion of exactly 0 is replaced by this epsilon (the
// other proportions are not renormalised), so a bin empty on one side adds a large but finite
// term and a bin empty on both sides adds 0.
inline constexpr double kPsiEpsilon = 1e-4;

// Population stability index: sum over bins of (a - e) * ln(a / e) with e, a the expected
// (reference) and actual (current) proportions after the empty-bin rule.
Result<double> PopulationStabilityIndex(std::span<const double> expected_counts,
                                        std::span<const double> actual_counts,
                                        double epsilon = kPsiEpsilon);

// max_i |p_i - q_i| over the normalised distributions (TFDV's L-infinity for categoricals).
Result<double> LInfinity(std::span<const double> p_counts, std::span<const double> q_counts);

// ---- Distances between samples -----------------------------------------------------------

// 1-D first Wasserstein distance between the empirical distributions of u and v: the area
// between their CDFs. scipy.stats.wasserstein_distance(u, v). NaNs are rejected.
Result<double> WassersteinDistance(std::span<const double> u, std::span<const double> v);

// Population standard deviation (divide by n), as numpy.std's default.
Result<double> PopulationStd(std::span<const double> values);

// The floor under the reference's standard deviation in NormalizedWasserstein, so a constant
// reference column does not divide by zero.
inline constexpr double kMinWassersteinScale = 0.001;

// W1(reference, current) / max(PopulationStd(reference), kMinWassersteinScale).
Result<double> NormalizedWasserstein(std::span<const double> reference,
                                     std::span<const double> current);

// ---- Tests --------------------------------------------------------------------------------

enum class KsMethod {
  kAuto,        // exact when both samples have <= kKsExactMaxN values, else asymptotic
  kExact,       // exact two-sided p-value by lattice-path probabilities (Hodges)
  kAsymptotic,  // limiting Kolmogorov distribution at sqrt(n*m/(n+m)) * D
};
inline constexpr int64_t kKsExactMaxN = 10000;  // scipy.stats.ks_2samp's MAX_AUTO_N

struct KsResult {
  double statistic = 0;               // sup |F_a - F_b| of the empirical CDFs
  double p_value = 1;                 // two-sided
  KsMethod method = KsMethod::kAuto;  // the method actually used: kExact or kAsymptotic
};

// Two-sample, two-sided Kolmogorov-Smirnov test. The statistic and the exact p-value match
// scipy.stats.ks_2samp(a, b, method='exact'); the asymptotic p-value is the limiting
// distribution scipy.special.kolmogorov(sqrt(en) * D) with en = n*m/(n+m), not scipy's
// finite-n kstwo (see docs/drift.md). NaNs are rejected.
Result<KsResult> KolmogorovSmirnov(std::span<const double> a, std::span<const double> b,
                                   KsMethod method = KsMethod::kAuto);

struct ChiSquaredResult {
  double statistic = 0;
  double p_value = 1;
  int64_t dof = 0;
};

// Pearson's chi-squared test of homogeneity on the 2 x k table (reference counts; current
// counts): scipy.stats.chi2_contingency(table, correction=False). Categories empty on both
// sides are dropped (scipy rejects a zero expected frequency); dof = k' - 1 over the k'
// categories left, and a single category yields statistic 0, p-value 1.
Result<ChiSquaredResult> ChiSquaredContingency(std::span<const double> reference_counts,
                                               std::span<const double> current_counts);

// ---- Categorical counts -----------------------------------------------------------------

using CategoryCounts = std::map<std::string, int64_t>;

// The union of both sides' categories in sorted order with each side's count (0 if absent):
// one bin per category.
struct AlignedCategories {
  std::vector<std::string> categories;
  std::vector<double> reference_counts;
  std::vector<double> current_counts;
};
AlignedCategories AlignCategories(const CategoryCounts& reference, const CategoryCounts& current);

// ---- Special functions ---------------------------------------------------------------------

// Q(a, x) = Gamma(a, x) / Gamma(a), the regularised upper incomplete gamma function
// (scipy.special.gammaincc), by series for x < a + 1 and a continued fraction otherwise.
double RegularizedUpperGamma(double a, double x);

// Survival function of the chi-squared distribution (scipy.stats.chi2.sf).
double ChiSquaredSurvival(double x, double dof);

// Survival function of the limiting Kolmogorov distribution, P(K > y)
// (scipy.special.kolmogorov, scipy.stats.kstwobign.sf).
double KolmogorovSurvival(double y);

}  // namespace cairn
