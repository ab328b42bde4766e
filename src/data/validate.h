// Validation of data against a schema (and optionally a reference), reporting
// anomalies with TFDV's names, short and long descriptions and a severity. Works from
// statistics; the few checks statistics cannot answer (values that do not parse as the
// schema's type, values outside a domain the top values do not cover) come from one extra
// pass over the table (conformance.h). The anomaly catalogue: docs/data-validation.md.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/conformance.h"
#include "data/schema.h"
#include "data/stats.h"
#include "data/table_reader.h"

namespace cairn::data {

enum class Severity { kWarning, kError };
const char* SeverityName(Severity severity);  // WARNING, ERROR

// One entry of the anomaly catalogue.
struct AnomalyKind {
  const char* name;  // TFDV's AnomalyInfo type name
  Severity severity;
  const char* short_description;
  const char* when;  // what triggers it, for the docs and `--help`
};
const std::vector<AnomalyKind>& AnomalyCatalogue();

struct Anomaly {
  std::string feature;  // empty for dataset-level anomalies
  std::string type;     // e.g. ENUM_TYPE_UNEXPECTED_STRING_VALUES
  Severity severity = Severity::kError;
  std::string short_description;
  std::string description;
  std::vector<TopValue> examples;  // offending values and their counts, when there are some
  std::optional<double> fraction;  // of the feature's values that are affected
  std::optional<double> value;     // a measured value (a distance, a count, a bound crossed)
  std::optional<double> threshold;
};

struct ValidationReport {
  std::vector<Anomaly> anomalies;  // dataset-level first, then by feature in schema order
  bool clean() const { return anomalies.empty(); }
  bool has_errors() const;
};

// Which comparator thresholds apply to the reference: drift (previous data) or skew
// (training vs serving data).
enum class ReferenceRole { kDrift, kSkew };

struct ValidateOptions {
  ReferenceRole role = ReferenceRole::kDrift;
};

// Columns whose checks need the conformance pass: a type the statistics cannot reconcile
// with the schema's, or a domain the statistics' top values do not fully cover.
std::vector<std::string> ColumnsNeedingConformance(const DatasetStats& current,
                                                   const Schema& schema);

// The anomalies of `current` against `schema`, with comparators against `reference` when
// given. `conformance` answers the columns ColumnsNeedingConformance named; a column it lacks
// is judged from the statistics alone (its parse/domain anomalies then carry no counts).
ValidationReport Validate(const DatasetStats& current, const Schema& schema,
                          const DatasetStats* reference,
                          const std::map<std::string, ColumnConformance>& conformance,
                          const ValidateOptions& options = {});

// Statistics given, the table at `path` read again only when a column needs the extra pass.
Result<ValidationReport> ValidateTable(const DatasetStats& current,
                                       const std::filesystem::path& path,
                                       const ReaderOptions& reader_options, const Schema& schema,
                                       const DatasetStats* reference,
                                       const ValidateOptions& options = {});

nlohmann::json ValidationToJson(const ValidationReport& report);
// A readable table of the anomalies, or a line saying there are none.
std::string ValidationTable(const ValidationReport& report);

// Jensen-Shannon divergence (base 2) between two features' distributions, as TFDV's
// comparator computes it: numeric features on their equal-width histograms rebinned onto the
// union of both edge sets (counts spread uniformly inside a bucket); categorical ones on their
// top values plus one bucket for the rest. nullopt when either side has no distribution.
std::optional<double> JensenShannonDivergence(const FeatureStats& current,
                                              const FeatureStats& reference);
// L-infinity distance between two categorical features' value distributions (top values plus
// one bucket for the rest); *value receives the value with the largest difference.
std::optional<double> LInfinityDistance(const FeatureStats& current, const FeatureStats& reference,
                                        std::string* value);

}  // namespace cairn::data
