// A data schema in the spirit of TFDV's: per feature a type, presence
// constraints, a string or boolean domain, numeric bounds, NaN/inf rules,
// unique-count bounds and skew/drift comparator thresholds; dataset-level
// example-count bounds. Inferred from statistics the way TFDV's infer_schema
// does, and read/written as an editable YAML or JSON file (format
// cairn.schema/1, documented in docs/data-validation.md). Plain values.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/stats.h"

namespace cairn::data {

inline constexpr const char* kSchemaFormat = "cairn.schema/1";
// A string feature gets a domain when it has at most this many distinct values (TFDV's
// default max_string_domain_size); the statistics must list them all (top_k >= this).
inline constexpr int kMaxDomainValues = 100;

enum class FeatureType { kInt, kFloat, kString, kBool, kTimestamp };
const char* FeatureTypeName(FeatureType type);  // INT FLOAT STRING BOOL TIMESTAMP
// Accepts the names above in any case, and BYTES for STRING (TFDV's name).
Result<FeatureType> FeatureTypeFromName(std::string_view name);

// Distance thresholds between this data and a reference (TFDV's FeatureComparator):
// l_infinity for categorical features, jensen_shannon (divergence, base 2) for both kinds.
struct Comparator {
  std::optional<double> l_infinity;
  std::optional<double> jensen_shannon;
  bool empty() const { return !l_infinity && !jensen_shannon; }
};

struct BoolDomain {
  std::string true_value = "true";
  std::string false_value = "false";
};

struct FeatureSchema {
  std::string name;
  FeatureType type = FeatureType::kString;
  // Presence (TFDV's FeaturePresence): the fraction of rows where the feature is not null
  // (1 = required, never missing; 1 - min_fraction is the allowed null fraction), and the
  // least number of non-null values.
  double min_fraction = 0;
  int64_t min_count = 0;
  // STRING: the allowed values, and the fraction of values that must fall inside them.
  std::optional<std::vector<std::string>> domain;
  double min_domain_mass = 1.0;
  std::optional<BoolDomain> bool_domain;          // BOOL
  std::optional<double> min, max;                 // INT and FLOAT bounds (inclusive)
  bool allow_nan = true;                          // FLOAT
  bool allow_inf = true;                          // FLOAT
  std::optional<int64_t> unique_min, unique_max;  // distinct values (string-like features)
  Comparator skew_comparator;
  Comparator drift_comparator;
};

struct Schema {
  std::optional<int64_t> min_examples;
  std::optional<int64_t> max_examples;
  std::vector<FeatureSchema> features;

  const FeatureSchema* Find(std::string_view name) const;
};

// TFDV's inference: type from the column type (an int column holding 0 and 1 and a
// true/false column are BOOL with a bool domain); required (min_fraction 1) when never
// missing, min_count 1 when any value is present; a string domain when the distinct count is
// exact, at most kMaxDomainValues and the top values list every one of them; FLOAT features
// disallow NaN / inf when the statistics saw none.
Schema InferSchema(const DatasetStats& stats);

// The statistics options that make InferSchema able to list domains (top_k covers them).
StatsOptions SchemaStatsOptions(StatsOptions base = {});

nlohmann::json SchemaToJson(const Schema& schema);
std::string SchemaToYaml(const Schema& schema);
// Reads YAML or JSON text (JSON is YAML). Errors are INVALID_PARAMETER_VALUE
// "source:line:col: message" pointing at the offending key or value.
Result<Schema> ParseSchema(std::string_view text, std::string_view source);
// By extension: .json writes JSON, .yml/.yaml YAML; anything else is refused.
Result<Schema> LoadSchemaFile(const std::string& path);
Status SaveSchemaFile(const Schema& schema, const std::string& path);
// "json" or "yaml" from a file name; INVALID_PARAMETER_VALUE for other extensions.
Result<std::string> SchemaFileKind(const std::string& path);

}  // namespace cairn::data
