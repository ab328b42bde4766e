#include "data/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace cairn {
namespace {

Status CheckCounts(std::span<const double> p, std::span<const double> q, const char* what) {
  if (p.size() != q.size()) {
    return InvalidParameter(std::string(what) + ": the two count vectors must have the same " +
                            "length (got " + std::to_string(p.size()) + " and " +
                            std::to_string(q.size()) + ")");
  }
  if (p.empty()) return InvalidParameter(std::string(what) + ": the count vectors are empty");
  for (auto side : {p, q}) {
    double total = 0;
    for (double c : side) {
      if (!(c >= 0) || std::isinf(c)) {
        return InvalidParameter(std::string(what) +
                                ": counts must be finite and non-negative, got " +
                                std::to_string(c));
      }
      total += c;
    }
    if (total <= 0) {
      return InvalidParameter(std::string(what) +
                              ": a count vector sums to 0; a distribution needs at least one "
                              "observation");
    }
  }
  return Status::Ok();
}

std::vector<double> Normalized(std::span<const double> counts) {
  double total = 0;
  for (double c : counts) total += c;
  std::vector<double> out(counts.begin(), counts.end());
  for (double& v : out) v /= total;
  return out;
}

Status CheckSample(std::span<const double> values, const char* what, const char* side) {
  if (values.empty()) {
    return InvalidParameter(std::string(what) + ": the " + side + " sample is empty");
  }
  for (double v : values) {
    if (std::isnan(v)) {
      return InvalidParameter(std::string(what) + ": the " + side +
                              " sample contains NaN; drop nulls before computing drift");
    }
  }
  return Status::Ok();
}

std::vector<double> Sorted(std::span<const double> values) {
  std::vector<double> out(values.begin(), values.end());
  std::sort(out.begin(), out.end());
  return out;
}

// x * log(x / y) with the conventions of scipy.special.rel_entr for x, y >= 0.
double RelativeEntropyTerm(double x, double y) {
  if (x == 0) return 0;
  if (y == 0) return std::numeric_limits<double>::infinity();
  return x * std::log(x / y);
}

// The probability that a uniformly random monotone lattice path from (0, 0) to (m, n) reaches
// |n*x - m*y| >= limit, i.e. P(D >= d) for the two-sample statistic. The probability mass of
// the paths still inside the band is pushed forward one step at a time (a path at (x, y) steps
// right with probability (m - x) / (m - x + n - y)), and the mass stepping out is summed: a sum
// of positive terms, so small p-values keep their relative precision.
double LatticeExitProbability(int64_t m, int64_t n, int64_t limit) {
  auto inside = [&](int64_t x, int64_t y) { return std::llabs(n * x - m * y) < limit; };
  std::vector<double> row(static_cast<size_t>(n + 1), 0.0);
  std::vector<double> next(static_cast<size_t>(n + 1), 0.0);
  row[0] = 1.0;
  double exit = 0;
  for (int64_t x = 0; x <= m; ++x) {
    // Only y with |n*x - m*y| < limit can hold mass in this row.
    int64_t y_lo = std::max<int64_t>(0, (n * x - limit) / m);
    int64_t y_hi = std::min<int64_t>(n, (n * x + limit) / m + 1);
    for (int64_t y = y_lo; y <= y_hi; ++y) {
      double mass = row[static_cast<size_t>(y)];
      if (mass == 0) continue;
      row[static_cast<size_t>(y)] = 0;
      double remaining = static_cast<double>((m - x) + (n - y));
      if (remaining == 0) continue;  // the end point (m, n)
      if (x < m) {
        double step = mass * static_cast<double>(m - x) / remaining;
        if (inside(x + 1, y)) {
          next[static_cast<size_t>(y)] += step;
        } else {
          exit += step;
        }
      }
      if (y < n) {
        double step = mass * static_cast<double>(n - y) / remaining;
        if (inside(x, y + 1)) {
          row[static_cast<size_t>(y + 1)] += step;
        } else {
          exit += step;
        }
      }
    }
    std::swap(row, next);
  }
  return std::min(1.0, exit);
}

}  // namespace

int SturgesBins(int64_t n) {
  if (n <= 1) return 1;
  return static_cast<int>(std::ceil(std::log2(static_cast<double>(n)))) + 1;
}

Result<Histogram> EqualWidthHistogram(std::span<const double> values, double lo, double hi,
                                      int bins) {
  if (bins < 1) {
    return InvalidParameter("histogram: bins must be at least 1, got " + std::to_string(bins));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) {
    return InvalidParameter("histogram: the range must be finite with lo <= hi, got [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  Histogram h;
  h.edges.resize(static_cast<size_t>(bins) + 1);
  double step = (hi - lo) / bins;
  for (int i = 0; i < bins; ++i) h.edges[static_cast<size_t>(i)] = lo + i * step;
  h.edges.back() = hi;
  h.counts.assign(static_cast<size_t>(bins), 0.0);
  double scale = bins / (hi - lo);
  for (double v : values) {
    if (!(v >= lo && v <= hi)) continue;  // also skips NaN
    auto i = static_cast<int64_t>((v - lo) * scale);
    if (i >= bins) i = bins - 1;
    // The scaled index can be off by one next to an edge; the edges decide.
    if (v < h.edges[static_cast<size_t>(i)]) --i;
    if (i < bins - 1 && v >= h.edges[static_cast<size_t>(i + 1)]) ++i;
    h.counts[static_cast<size_t>(i)] += 1;
  }
  return h;
}

Result<PairedHistogram> EqualWidthHistograms(std::span<const double> reference,
                                             std::span<const double> current, int bins) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  int64_t n = 0;
  for (auto side : {reference, current}) {
    for (double v : side) {
      if (std::isnan(v)) continue;
      if (std::isinf(v)) return InvalidParameter("histogram: values must be finite");
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      ++n;
    }
  }
  if (n == 0) return InvalidParameter("histogram: both samples are empty (or all NaN)");
  if (bins == 0) bins = SturgesBins(n);
  CAIRN_ASSIGN_OR_RETURN(Histogram ref, EqualWidthHistogram(reference, lo, hi, bins));
  CAIRN_ASSIGN_OR_RETURN(Histogram cur, EqualWidthHistogram(current, lo, hi, bins));
  return PairedHistogram{std::move(ref.edges), std::move(ref.counts), std::move(cur.counts)};
}

Result<double> JensenShannonDistance(std::span<const double> p_counts,
                                     std::span<const double> q_counts) {
  CAIRN_RETURN_IF_ERROR(CheckCounts(p_counts, q_counts, "Jensen-Shannon distance"));
  std::vector<double> p = Normalized(p_counts), q = Normalized(q_counts);
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double m = (p[i] + q[i]) / 2;
    sum += RelativeEntropyTerm(p[i], m) + RelativeEntropyTerm(q[i], m);
  }
  double divergence = sum / std::log(2.0) / 2;
  return std::sqrt(std::max(0.0, divergence));
}

Result<double> PopulationStabilityIndex(std::span<const double> expected_counts,
                                        std::span<const double> actual_counts, double epsilon) {
  CAIRN_RETURN_IF_ERROR(CheckCounts(expected_counts, actual_counts, "PSI"));
  if (!(epsilon > 0 && epsilon < 1)) {
    return InvalidParameter("PSI: epsilon must be in (0, 1), got " + std::to_string(epsilon));
  }
  std::vector<double> e = Normalized(expected_counts), a = Normalized(actual_counts);
  double psi = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    double ei = e[i] == 0 ? epsilon : e[i];
    double ai = a[i] == 0 ? epsilon : a[i];
    psi += (ai - ei) * std::log(ai / ei);
  }
  return psi;
}

Result<double> LInfinity(std::span<const double> p_counts, std::span<const double> q_counts) {
  CAIRN_RETURN_IF_ERROR(CheckCounts(p_counts, q_counts, "L-infinity distance"));
  std::vector<double> p = Normalized(p_counts), q = Normalized(q_counts);
  double out = 0;
  for (size_t i = 0; i < p.size(); ++i) out = std::max(out, std::abs(p[i] - q[i]));
  return out;
}

Result<double> WassersteinDistance(std::span<const double> u, std::span<const double> v) {
  CAIRN_RETURN_IF_ERROR(CheckSample(u, "Wasserstein distance", "first"));
  CAIRN_RETURN_IF_ERROR(CheckSample(v, "Wasserstein distance", "second"));
  std::vector<double> a = Sorted(u), b = Sorted(v);
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  // Walk the distinct values of the merged sample; between consecutive values x < x' both
  // empirical CDFs are constant, so the area is |F_a(x) - F_b(x)| * (x' - x).
  size_t i = 0, j = 0;
  double area = 0;
  double x = std::min(a[0], b[0]);
  while (i < a.size() || j < b.size()) {
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    if (i == a.size() && j == b.size()) break;
    double next_x = std::min(i < a.size() ? a[i] : b[j], j < b.size() ? b[j] : a[i]);
    area += std::abs(static_cast<double>(i) / na - static_cast<double>(j) / nb) * (next_x - x);
    x = next_x;
  }
  return area;
}

Result<double> PopulationStd(std::span<const double> values) {
  CAIRN_RETURN_IF_ERROR(CheckSample(values, "standard deviation", "input"));
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(values.size()));
}

Result<double> NormalizedWasserstein(std::span<const double> reference,
                                     std::span<const double> current) {
  CAIRN_ASSIGN_OR_RETURN(double w1, WassersteinDistance(reference, current));
  CAIRN_ASSIGN_OR_RETURN(double sd, PopulationStd(reference));
  return w1 / std::max(sd, kMinWassersteinScale);
}

Result<KsResult> KolmogorovSmirnov(std::span<const double> a, std::span<const double> b,
                                   KsMethod method) {
  CAIRN_RETURN_IF_ERROR(CheckSample(a, "Kolmogorov-Smirnov test", "first"));
  CAIRN_RETURN_IF_ERROR(CheckSample(b, "Kolmogorov-Smirnov test", "second"));
  std::vector<double> x = Sorted(a), y = Sorted(b);
  const int64_t n1 = static_cast<int64_t>(x.size()), n2 = static_cast<int64_t>(y.size());
  // The CDF difference in units of 1/(n1*n2): i*n2 - j*n1, evaluated after each distinct
  // value (ties on both sides move together, as searchsorted(side='right') does).
  size_t i = 0, j = 0;
  int64_t max_diff = 0;
  while (i < x.size() || j < y.size()) {
    double v = (j == y.size() || (i < x.size() && x[i] <= y[j])) ? x[i] : y[j];
    while (i < x.size() && x[i] <= v) ++i;
    while (j < y.size() && y[j] <= v) ++j;
    max_diff = std::max(max_diff, static_cast<int64_t>(std::llabs(static_cast<int64_t>(i) * n2 -
                                                                  static_cast<int64_t>(j) * n1)));
  }
  const int64_t g = std::gcd(n1, n2);
  const int64_t lcm = (n1 / g) * n2;
  const int64_t h = max_diff / g;  // D = h / lcm exactly
  KsResult out;
  out.statistic = static_cast<double>(h) / static_cast<double>(lcm);
  if (method == KsMethod::kAuto) {
    method = std::max(n1, n2) <= kKsExactMaxN ? KsMethod::kExact : KsMethod::kAsymptotic;
  }
  out.method = method;
  if (method == KsMethod::kExact) {
    if (static_cast<double>(n1) * static_cast<double>(n2) > 4e9) {
      return InvalidParameter(
          "Kolmogorov-Smirnov test: the exact p-value needs n1*n2 <= 4e9 (got " +
          std::to_string(n1) + " x " + std::to_string(n2) + "); use the asymptotic method");
    }
    out.p_value = h == 0 ? 1.0 : LatticeExitProbability(n1, n2, h * g);
  } else {
    double en = static_cast<double>(n1) * static_cast<double>(n2) /
                (static_cast<double>(n1) + static_cast<double>(n2));
    out.p_value = KolmogorovSurvival(std::sqrt(en) * out.statistic);
  }
  return out;
}

Result<ChiSquaredResult> ChiSquaredContingency(std::span<const double> reference_counts,
                                               std::span<const double> current_counts) {
  CAIRN_RETURN_IF_ERROR(CheckCounts(reference_counts, current_counts, "chi-squared test"));
  double row_total[2] = {0, 0};
  std::vector<double> column_total;
  std::vector<size_t> kept;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    double c = reference_counts[i] + current_counts[i];
    if (c == 0) continue;
    kept.push_back(i);
    column_total.push_back(c);
    row_total[0] += reference_counts[i];
    row_total[1] += current_counts[i];
  }
  ChiSquaredResult out;
  out.dof = static_cast<int64_t>(kept.size()) - 1;
  if (out.dof == 0) return out;
  const double total = row_total[0] + row_total[1];
  for (size_t k = 0; k < kept.size(); ++k) {
    double observed[2] = {reference_counts[kept[k]], current_counts[kept[k]]};
    for (int r = 0; r < 2; ++r) {
      double expected = row_total[r] * column_total[k] / total;
      double d = observed[r] - expected;
      out.statistic += d * d / expected;
    }
  }
  out.p_value = ChiSquaredSurvival(out.statistic, static_cast<double>(out.dof));
  return out;
}

AlignedCategories AlignCategories(const CategoryCounts& reference, const CategoryCounts& current) {
  AlignedCategories out;
  auto r = reference.begin();
  auto c = current.begin();
  while (r != reference.end() || c != current.end()) {
    if (c == current.end() || (r != reference.end() && r->first < c->first)) {
      out.categories.push_back(r->first);
      out.reference_counts.push_back(static_cast<double>(r->second));
      out.current_counts.push_back(0);
      ++r;
    } else if (r == reference.end() || c->first < r->first) {
      out.categories.push_back(c->first);
      out.reference_counts.push_back(0);
      out.current_counts.push_back(static_cast<double>(c->second));
      ++c;
    } else {
      out.categories.push_back(r->first);
      out.reference_counts.push_back(static_cast<double>(r->second));
      out.current_counts.push_back(static_cast<double>(c->second));
      ++r;
      ++c;
    }
  }
  return out;
}

double RegularizedUpperGamma(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a <= 0 || x < 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  // log(x^a e^-x / Gamma(a)), the common prefactor of both expansions.
  const double log_prefactor = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    // P(a, x) = prefactor * sum_k x^k / (a (a+1) ... (a+k)); converges fast for x < a + 1.
    double term = 1.0 / a, sum = term, ap = a;
    for (int k = 0; k < 100000; ++k) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (std::abs(term) < std::abs(sum) * 1e-17) break;
    }
    return 1.0 - sum * std::exp(log_prefactor);
  }
  // Q(a, x) = prefactor / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))),
  // evaluated by the modified Lentz method.
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double f = d;
  for (int i = 1; i < 100000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    f *= delta;
    if (std::abs(delta - 1) < 1e-16) break;
  }
  return std::exp(log_prefactor) * f;
}

double ChiSquaredSurvival(double x, double dof) {
  if (x <= 0) return 1.0;
  return RegularizedUpperGamma(dof / 2, x / 2);
}

double KolmogorovSurvival(double y) {
  if (std::isnan(y)) return y;
  if (y <= 0) return 1.0;
  constexpr double kPi = 3.14159265358979323846;
  if (y < 1) {
    // P(K <= y) = sqrt(2 pi) / y * sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 y^2)): few terms for y < 1.
    double sum = 0;
    for (int k = 1; k < 100; ++k) {
      double odd = 2.0 * k - 1;
      double term = std::exp(-odd * odd * kPi * kPi / (8 * y * y));
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return 1.0 - std::sqrt(2 * kPi) / y * sum;
  }
  // P(K > y) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 y^2): alternating, fast for y >= 1, and
  // relative precision in the tail because the first term dominates.
  double sum = 0;
  for (int k = 1; k < 100; ++k) {
    double term = std::exp(-2.0 * k * k * y * y);
    sum += (k % 2 == 1) ? term : -term;
    if (term <= std::abs(sum) * 1e-17) break;
  }
  return std::clamp(2 * sum, 0.0, 1.0);
}

}  // namespace cairn
