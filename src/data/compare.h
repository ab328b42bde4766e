// Side-by-side comparison of two tables, as TFDV's visualize_statistics(lhs, rhs): per feature
// (the union of both sides' columns) each side's key statistics and the drift metrics of
// data/drift.h that fit its type, rendered as a text table, as JSON (cairn.compare/1) and as a
// self-contained HTML page. A is the reference (baseline), B the current data. Memory is
// bounded independently of the row count: see docs/data.md, "Comparing two tables".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/drift.h"
#include "data/stats.h"
#include "data/table_reader.h"

namespace cairn::data {

inline constexpr const char* kCompareFormat = "cairn.compare/1";

// A metric at or past its threshold is highlighted; a feature is "drifted" when one of its
// distances (not a p-value) is. p-values below `p_value` are highlighted only: on large
// samples they flag shifts too small to matter.
struct DriftThresholds {
  double jensen_shannon = 0.1;
  double psi = 0.2;
  double normalized_wasserstein = 0.1;
  double l_infinity = 0.1;
  double p_value = 0.05;
};

struct CompareOptions {
  StatsOptions stats;  // each side's statistics (threads, exact budget, sketches)
  // Finite values kept per numeric column and side for Kolmogorov-Smirnov and Wasserstein:
  // every value when the column has no more, else a systematic sample of this many.
  int64_t max_sample = 10000;
  // Categories counted per categorical column: the union of each side's most frequent
  // `max_categories`; the rest of each side is one "other" bin. High, so that only columns
  // with more distinct values (identifiers, free text) pool a tail, whose selection biases the
  // categorical metrics upward (docs/data.md).
  int max_categories = 100000;
  // Most frequent values shown per categorical feature in the table, JSON and HTML.
  int shown_values = 10;
  DriftThresholds thresholds;
};

enum class CompareKind {
  kNumeric,      // int or float on both sides
  kCategorical,  // string, bool or timestamp on both sides
  kNone,         // only on one side, empty on a side, or types that do not compare
};
const char* CompareKindName(CompareKind kind);

struct NumericComparison {
  // Both sides' finite values on SturgesBins(finite A + finite B) equal-width bins over the
  // combined [min, max] (docs/drift.md): exact counts, as EqualWidthHistograms would give.
  std::vector<double> edges;
  std::vector<double> counts_a, counts_b;
  double jensen_shannon = 0;
  double psi = 0;  // A expected, B actual
  // From each side's sample (exact when neither side was sampled).
  double wasserstein = 0;
  double normalized_wasserstein = 0;  // wasserstein / max(std of A, 0.001)
  KsResult ks;
  int64_t sample_a = 0, sample_b = 0;
  bool sampled = false;  // a side had more finite values than max_sample
};

struct CategoricalComparison {
  // One bin per category (sorted by byte order), then `other` if a side had more.
  std::vector<std::string> categories;
  std::vector<double> counts_a, counts_b;
  bool has_other = false;  // the last bin is "every other value"
  double jensen_shannon = 0;
  double l_infinity = 0;
  double psi = 0;  // A expected, B actual
  ChiSquaredResult chi_squared;
};

struct FeatureComparison {
  std::string name;
  std::optional<FeatureStats> a, b;  // nullopt: the column is not on that side
  CompareKind kind = CompareKind::kNone;
  std::string note;  // why there are no drift metrics (kNone)
  NumericComparison numeric;
  CategoricalComparison categorical;
  bool drifted = false;
};

struct CompareReport {
  std::string a_name, b_name;  // the sources, as the legend shows them
  int64_t rows_a = 0, rows_b = 0;
  bool exact_a = true, exact_b = true;  // the statistics used no sketches
  DriftThresholds thresholds;
  int shown_values = 10;
  std::vector<FeatureComparison> features;  // A's columns in order, then B-only ones

  int drifted_count() const;
};

// Statistics of both tables (reading each reader to its end), then one more pass over each
// file (reopened from reader.path() with the same options) for the drift metrics' bins,
// samples and category counts. a_name/b_name label the sides (default: the paths).
Result<CompareReport> CompareTables(TableReader& a, TableReader& b,
                                    const CompareOptions& options = {});

nlohmann::json CompareToJson(const CompareReport& report);
// Per-feature rows with A and B side by side, then the drift metrics.
std::string CompareText(const CompareReport& report);
// One self-contained page (inline CSS and SVG, no external resources): a summary table with
// values past the thresholds highlighted, then a panel per feature with both sides'
// statistics and overlaid histograms (numeric) or side-by-side bars (categorical).
std::string CompareHtml(const CompareReport& report);

}  // namespace cairn::data
