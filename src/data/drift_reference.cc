#include "data/drift_reference.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <thread>

#include "data/quality.h"

namespace cairn {
namespace {

// Index of the rank standing for point i of k evenly spaced order statistics out of n.
size_t SpacedRank(int64_t i, int64_t k, int64_t n) {
  return static_cast<size_t>(std::min<int64_t>(
      n - 1, static_cast<int64_t>((static_cast<double>(i) + 0.5) * static_cast<double>(n) /
                                  static_cast<double>(k))));
}

}  // namespace

Result<NumericReference> BuildNumericReference(std::span<const double> values, int64_t max_sample) {
  if (max_sample < 1) {
    return InvalidParameter("reference summary: max_sample must be at least 1, got " +
                            std::to_string(max_sample));
  }
  std::vector<double> sorted;
  sorted.reserve(values.size());
  for (double v : values) {
    if (std::isnan(v)) continue;
    if (std::isinf(v)) return InvalidParameter("reference summary: values must be finite");
    sorted.push_back(v);
  }
  if (sorted.empty()) {
    return InvalidParameter("reference summary: the reference column has no non-null values");
  }
  std::sort(sorted.begin(), sorted.end());
  NumericReference ref;
  ref.count = static_cast<int64_t>(sorted.size());
  ref.min = sorted.front();
  ref.max = sorted.back();
  for (double v : sorted) ref.mean += v;
  ref.mean /= static_cast<double>(ref.count);
  double ss = 0;
  for (double v : sorted) ss += (v - ref.mean) * (v - ref.mean);
  ref.std = std::sqrt(ss / static_cast<double>(ref.count));
  if (ref.count <= max_sample) {
    ref.sample = std::move(sorted);
  } else {
    ref.sample.resize(static_cast<size_t>(max_sample));
    for (int64_t i = 0; i < max_sample; ++i) {
      ref.sample[static_cast<size_t>(i)] = sorted[SpacedRank(i, max_sample, ref.count)];
    }
  }
  return ref;
}

Result<NumericDrift> ComputeNumericDrift(const NumericReference& reference,
                                         std::span<const double> current,
                                         const DriftOptions& options) {
  if (reference.count < 1 || reference.sample.empty() ||
      static_cast<int64_t>(reference.sample.size()) > reference.count) {
    return InvalidParameter(
        "drift: the reference summary is empty or inconsistent; build it "
        "with BuildNumericReference");
  }
  if (options.max_current_sample < 0) {
    return InvalidParameter("drift: max_current_sample must be >= 0 (0 = every value)");
  }
  NumericDrift out;
  out.rows = static_cast<int64_t>(current.size());

  // Pass 1: nulls, range, out-of-bounds.
  int64_t nulls = 0, outside = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : current) {
    if (std::isnan(v)) {
      ++nulls;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    outside += (v < reference.min || v > reference.max) ? 1 : 0;
  }
  const int64_t present = out.rows - nulls;
  if (present == 0) {
    return InvalidParameter("drift: the current column has no non-null values");
  }
  if (std::isinf(lo) || std::isinf(hi)) {
    return InvalidParameter("drift: the current column holds an infinite value");
  }
  CAIRN_ASSIGN_OR_RETURN(out.null_value_rate, NullValueRate(nulls, out.rows));
  out.out_of_bounds_rate = static_cast<double>(outside) / static_cast<double>(present);

  // Pass 2: Sturges bins over the combined range. The reference's counts come from its
  // sample, each point weighing count / sample.size() rows (exact when the sample is complete).
  lo = std::min(lo, reference.min);
  hi = std::max(hi, reference.max);
  const int bins = SturgesBins(reference.count + present);
  CAIRN_ASSIGN_OR_RETURN(Histogram cur_hist, EqualWidthHistogram(current, lo, hi, bins));
  CAIRN_ASSIGN_OR_RETURN(Histogram ref_hist, EqualWidthHistogram(reference.sample, lo, hi, bins));
  const double weight =
      static_cast<double>(reference.count) / static_cast<double>(reference.sample.size());
  for (double& c : ref_hist.counts) c *= weight;
  CAIRN_ASSIGN_OR_RETURN(out.jensen_shannon,
                         JensenShannonDistance(ref_hist.counts, cur_hist.counts));
  CAIRN_ASSIGN_OR_RETURN(
      out.psi, PopulationStabilityIndex(ref_hist.counts, cur_hist.counts, options.psi_epsilon));

  // The current sample: every non-null value, or a systematic sample of about k of them.
  std::vector<double> sample;
  const int64_t k = options.max_current_sample;
  if (k == 0 || present <= k) {
    sample.reserve(static_cast<size_t>(present));
    for (double v : current) {
      if (!std::isnan(v)) sample.push_back(v);
    }
  } else {
    sample.reserve(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) {
      double v = current[SpacedRank(i, k, out.rows)];
      if (!std::isnan(v)) sample.push_back(v);
    }
    if (sample.empty()) {  // the sampled positions were all null; fall back to every value
      for (double v : current) {
        if (!std::isnan(v)) sample.push_back(v);
      }
    }
  }
  CAIRN_ASSIGN_OR_RETURN(out.wasserstein, WassersteinDistance(reference.sample, sample));
  out.normalized_wasserstein = out.wasserstein / std::max(reference.std, kMinWassersteinScale);
  CAIRN_ASSIGN_OR_RETURN(out.ks, KolmogorovSmirnov(reference.sample, sample, options.ks_method));
  return out;
}

Result<std::vector<NumericDrift>> ComputeDrift(
    std::span<const NumericReference> references,
    std::span<const std::span<const double>> current_columns, const DriftOptions& options) {
  if (references.size() != current_columns.size()) {
    return InvalidParameter("drift: " + std::to_string(references.size()) +
                            " reference summaries but " + std::to_string(current_columns.size()) +
                            " current columns; pass one reference per column");
  }
  if (options.threads < 1) {
    return InvalidParameter("drift: threads must be at least 1, got " +
                            std::to_string(options.threads));
  }
  const size_t n = references.size();
  std::vector<std::optional<Result<NumericDrift>>> results(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      results[i].emplace(ComputeNumericDrift(references[i], current_columns[i], options));
    }
  };
  const size_t workers = std::min(n, static_cast<size_t>(options.threads));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (auto& t : pool) t.join();

  std::vector<NumericDrift> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!results[i]->ok()) {
      const Status& st = results[i]->status();
      return Status(st.code(), "feature " + std::to_string(i) + ": " + st.message());
    }
    out.push_back(std::move(*results[i]).value());
  }
  return out;
}

Result<CategoricalDrift> ComputeCategoricalDrift(const CategoryCounts& reference,
                                                 const CategoryCounts& current,
                                                 double psi_epsilon) {
  AlignedCategories aligned = AlignCategories(reference, current);
  CategoricalDrift out;
  CAIRN_ASSIGN_OR_RETURN(out.jensen_shannon,
                         JensenShannonDistance(aligned.reference_counts, aligned.current_counts));
  CAIRN_ASSIGN_OR_RETURN(out.psi, PopulationStabilityIndex(aligned.reference_counts,
                                                           aligned.current_counts, psi_epsilon));
  CAIRN_ASSIGN_OR_RETURN(out.l_infinity,
                         LInfinity(aligned.reference_counts, aligned.current_counts));
  CAIRN_ASSIGN_OR_RETURN(out.chi_squared,
                         ChiSquaredContingency(aligned.reference_counts, aligned.current_counts));
  CAIRN_ASSIGN_OR_RETURN(out.out_of_bounds_rate, OutOfBoundsRate(reference, current));
  return out;
}

}  // namespace cairn
