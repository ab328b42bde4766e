// Drift of current data against a stored reference summary, so monitoring never re-reads the
// reference rows: the summary of a numeric column (moments, range, a bounded quantile sample),
// per-feature drift reports, and ComputeDrift over many features on a small thread pool.
// Summaries and reports are plain values; every function is safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "data/drift.h"

namespace cairn {

// Points kept in a reference's quantile sample (and drawn from a current column) by default.
inline constexpr int64_t kDefaultDriftSample = 10000;

// What is stored of a numeric reference column. `sample` holds sorted, evenly spaced order
// statistics: point i is the value of rank floor((i + 0.5) * count / sample.size()), so each
// point stands for count / sample.size() rows. When count <= the sample bound the sample is
// the whole column and every metric computed from it is exact.
struct NumericReference {
  int64_t count = 0;  // non-null values
  double mean = 0;
  double std = 0;  // population standard deviation
  double min = 0;
  double max = 0;
  std::vector<double> sample;

  bool complete() const { return static_cast<int64_t>(sample.size()) == count; }
};

// Summarises a reference column. NaNs (nulls) are skipped; at least one value must remain.
Result<NumericReference> BuildNumericReference(std::span<const double> values,
                                               int64_t max_sample = kDefaultDriftSample);

struct DriftOptions {
  // Points drawn from the current column (systematic sample, every n/k-th non-null value) for
  // the Kolmogorov-Smirnov and Wasserstein metrics; 0 uses every value.
  int64_t max_current_sample = kDefaultDriftSample;
  KsMethod ks_method = KsMethod::kAsymptotic;
  double psi_epsilon = kPsiEpsilon;
  int threads = 2;  // ComputeDrift's worker threads
};

struct NumericDrift {
  int64_t rows = 0;  // current rows, nulls included
  double null_value_rate = 0;
  double out_of_bounds_rate = 0;  // outside the reference's [min, max]
  // On Sturges bins over the combined [min, max] of reference and current.
  double jensen_shannon = 0;
  double psi = 0;
  // From the reference sample and the (possibly sampled) current column.
  double wasserstein = 0;
  double normalized_wasserstein = 0;  // wasserstein / max(reference std, 0.001)
  KsResult ks;
};

// Drift of one current column (NaN = null) against its stored reference. One pass finds the
// current range, a second bins it, so the cost is O(rows) plus sorting the current sample.
Result<NumericDrift> ComputeNumericDrift(const NumericReference& reference,
                                         std::span<const double> current,
                                         const DriftOptions& options = {});

// Feature i's drift from references[i] and current_columns[i], the features spread over
// options.threads threads. The first failing feature's error is returned, naming its index.
Result<std::vector<NumericDrift>> ComputeDrift(
    std::span<const NumericReference> references,
    std::span<const std::span<const double>> current_columns, const DriftOptions& options = {});

struct CategoricalDrift {
  double jensen_shannon = 0;  // one bin per category
  double psi = 0;
  double l_infinity = 0;
  ChiSquaredResult chi_squared;
  double out_of_bounds_rate = 0;  // current rows in categories the reference never saw
};

// Drift of current category counts against the reference's (nulls excluded from both).
Result<CategoricalDrift> ComputeCategoricalDrift(const CategoryCounts& reference,
                                                 const CategoryCounts& current,
                                                 double psi_epsilon = kPsiEpsilon);

}  // namespace cairn
