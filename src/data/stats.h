// Per-feature statistics of a table (count, missing, numeric moments,
// quantiles and histograms, string distinct counts and top values), exact up
// to a memory budget (bytes over all columns, values per column) and from
// mergeable deterministic sketches beyond it, so memory does not grow with rows.
// ComputeStats parses a plain CSV file by byte ranges on all its threads (other
// inputs: reads on the calling thread, summarizes chunks on worker threads);
// the result is the same for any thread count. Format: docs/data.md.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"
#include "data/type_inference.h"

namespace cairn::data {

inline constexpr const char* kStatsFormat = "cairn.stats/1";

struct StatsOptions {
  // Threads parsing and summarizing byte ranges of a plain CSV file (the
  // calling thread is one of them); for gzip and JSON, workers summarizing
  // chunks that the calling thread reads.
  int threads = 2;
  // Per column: finite numbers kept for exact quantiles, or distinct strings
  // kept for exact counts; past it the column switches to sketches.
  int64_t exact_budget_values = 10'000'000;
  // All columns together: bytes of kept numbers and distinct strings (with
  // their table). When a chunk would take the total past it, the columns
  // keeping the most switch to sketches, largest first, until it fits; so
  // memory is bounded whatever the number of rows. 0 sketches everything.
  int64_t exact_budget_bytes = int64_t{512} << 20;
  int top_k = 20;
  int quantile_sketch_k = 4096;         // QuantileSketch compactor size
  size_t heavy_hitter_capacity = 1000;  // SpaceSaving counters
};

struct HistogramBucket {
  double low = 0;
  double high = 0;
  double count = 0;  // an estimate for sketched columns and for quantile buckets
};

struct NumericStats {
  // Over finite values only: NaN and +-inf are counted apart.
  int64_t finite = 0;
  double mean = 0;
  double std_dev = 0;  // population standard deviation (divide by n), as TFDV
  int64_t zeros = 0;
  int64_t nan = 0;
  int64_t inf = 0;
  double min = 0, median = 0, max = 0;
  std::vector<double> quantiles;                    // at 0%, 10%, ..., 100%
  std::vector<HistogramBucket> histogram;           // 10 equal-width buckets over [min, max]
  std::vector<HistogramBucket> quantile_histogram;  // 10 buckets between deciles
  bool quantiles_are_estimate = false;
  double rank_error_bound = 0;  // worst-case rank error of the estimated quantiles (fraction)
};

struct TopValue {
  std::string value;
  int64_t count = 0;
};

struct StringStats {
  int64_t unique = 0;
  bool unique_is_estimate = false;
  std::vector<TopValue> top_k;  // highest count first, ties by value
  bool top_k_is_estimate = false;
  double avg_length = 0;  // bytes
  int64_t invalid_utf8 = 0;
};

struct FeatureStats {
  std::string name;
  ColumnType type = ColumnType::kEmpty;
  int64_t count = 0;    // non-null values (NaNs of float columns included)
  int64_t missing = 0;  // null cells
  double missing_fraction = 0;
  bool has_numeric = false;  // int and float columns
  NumericStats numeric;
  bool has_string = false;  // string, bool and timestamp columns
  StringStats string;
};

struct DatasetStats {
  std::string source;
  int64_t num_rows = 0;
  bool exact = true;  // false when some column used sketches
  std::vector<FeatureStats> features;
};

// Reads the rest of `reader`. A column whose type turns out to need values
// the single pass did not keep (say, numbers in what became a string column)
// is summarized again by reopening reader.path() with the reader's options.
Result<DatasetStats> ComputeStats(TableReader& reader, const StatsOptions& options = {});

nlohmann::json StatsToJson(const DatasetStats& stats);
// Two aligned tables: numeric features, then string-like features.
std::string StatsTable(const DatasetStats& stats);

}  // namespace cairn::data
