// Validate: the schema's constraints checked feature by feature against statistics
// (and the conformance pass), then comparators against a reference. Descriptions follow
// TFDV's wording so reports read the same to people who know it.
#include "data/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "data/drift.h"

namespace cairn::data {
namespace {

using nlohmann::json;

// The bucket that holds everything outside the top values in categorical comparisons.
constexpr const char* kOtherValues = "\x01(other values)";

const std::vector<AnomalyKind> kCatalogue = {
    {"SCHEMA_MISSING_COLUMN", Severity::kError, "Column dropped",
     "a schema feature is not in the data (WARNING when the feature is optional: no presence)"},
    {"SCHEMA_NEW_COLUMN", Severity::kWarning, "New column",
     "a column of the data is not in the schema"},
    {"UNEXPECTED_DATA_TYPE", Severity::kError, "Unexpected data type",
     "the column's values are of another type than the schema's (FLOAT values for INT, "
     "non-timestamps for TIMESTAMP)"},
    {"FEATURE_TYPE_LOW_FRACTION_PRESENT", Severity::kError, "Column dropped",
     "fewer rows than presence.min_fraction hold a value"},
    {"FEATURE_TYPE_LOW_NUMBER_PRESENT", Severity::kError, "Column dropped",
     "fewer values than presence.min_count"},
    {"FLOAT_TYPE_HAS_NAN", Severity::kError, "Invalid values",
     "a FLOAT feature with allow_nan: false has NaN values"},
    {"FLOAT_TYPE_HAS_INF", Severity::kError, "Invalid values",
     "a FLOAT feature with allow_inf: false has +/-inf values"},
    {"FLOAT_TYPE_BIG_FLOAT", Severity::kError, "Out-of-range values",
     "a FLOAT feature's maximum is above the schema's max"},
    {"FLOAT_TYPE_SMALL_FLOAT", Severity::kError, "Out-of-range values",
     "a FLOAT feature's minimum is below the schema's min"},
    {"INT_TYPE_BIG_INT", Severity::kError, "Out-of-range values",
     "an INT feature's maximum is above the schema's max"},
    {"INT_TYPE_SMALL_INT", Severity::kError, "Out-of-range values",
     "an INT feature's minimum is below the schema's min"},
    {"INT_TYPE_NOT_INT_STRING", Severity::kError, "String values not castable to int",
     "an INT feature has values that do not parse as integers"},
    {"FLOAT_TYPE_STRING_NOT_FLOAT", Severity::kError, "String values not castable to float",
     "a FLOAT feature has values that do not parse as numbers"},
    {"BOOL_TYPE_UNEXPECTED_STRING", Severity::kError, "Unexpected string values",
     "a BOOL feature has values other than its bool_domain's true_value and false_value"},
    {"BOOL_TYPE_BIG_INT", Severity::kError, "Non-boolean values",
     "a BOOL feature stored as 0/1 has integers above 1"},
    {"BOOL_TYPE_SMALL_INT", Severity::kError, "Non-boolean values",
     "a BOOL feature stored as 0/1 has integers below 0"},
    {"BOOL_TYPE_UNEXPECTED_FLOAT", Severity::kError, "Non-boolean values",
     "a BOOL feature has fractional numbers"},
    {"ENUM_TYPE_UNEXPECTED_STRING_VALUES", Severity::kError, "Unexpected string values",
     "more than 1 - min_domain_mass of a STRING feature's values are outside its domain"},
    {"ENUM_TYPE_INVALID_UTF8", Severity::kError, "Invalid UTF-8 values",
     "a STRING feature has values that are not valid UTF-8"},
    {"FEATURE_TYPE_LOW_UNIQUE", Severity::kError, "Low number of unique values",
     "fewer distinct values than unique.min"},
    {"FEATURE_TYPE_HIGH_UNIQUE", Severity::kError, "High number of unique values",
     "more distinct values than unique.max"},
    {"DATASET_LOW_NUM_EXAMPLES", Severity::kError, "Low num examples in dataset",
     "fewer rows than min_examples"},
    {"DATASET_HIGH_NUM_EXAMPLES", Severity::kError, "High num examples in dataset",
     "more rows than max_examples"},
    {"COMPARATOR_L_INFTY_HIGH", Severity::kError, "High Linfty distance",
     "the L-infinity distance to the reference's value distribution is above the comparator's "
     "l_infinity (categorical features)"},
    {"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", Severity::kError,
     "High approximate Jensen-Shannon divergence",
     "the Jensen-Shannon divergence to the reference's distribution is above the comparator's "
     "jensen_shannon"},
};

const AnomalyKind& Kind(const std::string& name) {
  for (const auto& k : kCatalogue) {
    if (name == k.name) return k;
  }
  static const AnomalyKind unknown{"UNKNOWN", Severity::kError, "", ""};
  return unknown;
}

// Six significant digits, as TFDV prints.
std::string Sig(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Percent(double fraction) {
  if (fraction > 0 && fraction < 0.01) return "<1%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "~%.0f%%", fraction * 100);
  return buf;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

class Reporter {
 public:
  explicit Reporter(ValidationReport* report) : report_(report) {}
  Anomaly& Add(const std::string& feature, const std::string& type, std::string description) {
    const AnomalyKind& k = Kind(type);
    Anomaly a;
    a.feature = feature;
    a.type = type;
    a.severity = k.severity;
    a.short_description = k.short_description;
    a.description = std::move(description);
    report_->anomalies.push_back(std::move(a));
    return report_->anomalies.back();
  }

 private:
  ValidationReport* report_;
};

// "a (~3%), b (<1%)" over `total` values.
std::string ExampleList(const std::vector<TopValue>& examples, int64_t total) {
  std::string out;
  for (const TopValue& e : examples) {
    if (!out.empty()) out += ", ";
    out += Printable(e.value);
    if (total > 0) out += " (" + Percent(static_cast<double>(e.count) / total) + ")";
  }
  return out;
}

bool TopValuesComplete(const FeatureStats& fs) {
  return fs.has_string && !fs.string.unique_is_estimate && !fs.string.top_k_is_estimate &&
         static_cast<int64_t>(fs.string.top_k.size()) == fs.string.unique;
}

bool IsDefaultBoolDomain(const FeatureSchema& f) {
  BoolDomain d = f.bool_domain.value_or(BoolDomain{});
  return d.true_value == "true" && d.false_value == "false";
}

bool IsBinaryBoolDomain(const FeatureSchema& f) {
  return f.bool_domain && f.bool_domain->true_value == "1" && f.bool_domain->false_value == "0";
}

// The anomaly that per-cell parsing must count for this feature, or "" when the statistics
// settle the type question on their own.
std::string ParseAnomaly(const FeatureSchema& f, const FeatureStats& fs) {
  const ColumnType d = fs.type;
  if (d == ColumnType::kEmpty) return "";
  switch (f.type) {
    case FeatureType::kInt:
      return d == ColumnType::kInt || d == ColumnType::kFloat ? "" : "INT_TYPE_NOT_INT_STRING";
    case FeatureType::kFloat:
      return d == ColumnType::kInt || d == ColumnType::kFloat ? "" : "FLOAT_TYPE_STRING_NOT_FLOAT";
    case FeatureType::kBool:
      if (d == ColumnType::kFloat) return "";
      if (d == ColumnType::kBool && IsDefaultBoolDomain(f)) return "";
      if (d == ColumnType::kInt && IsBinaryBoolDomain(f)) return "";
      return "BOOL_TYPE_UNEXPECTED_STRING";
    case FeatureType::kTimestamp:
    case FeatureType::kString:
      return "";
  }
  return "";
}

std::vector<std::pair<std::string, double>> CategoricalCounts(const FeatureStats& fs) {
  std::vector<std::pair<std::string, double>> out;
  int64_t listed = 0;
  for (const TopValue& t : fs.string.top_k) {
    out.emplace_back(t.value, static_cast<double>(t.count));
    listed += t.count;
  }
  if (fs.count > listed) out.emplace_back(kOtherValues, static_cast<double>(fs.count - listed));
  return out;
}

AlignedCategories Align(const FeatureStats& a, const FeatureStats& b) {
  CategoryCounts ca, cb;
  for (const auto& [v, n] : CategoricalCounts(a)) ca[v] = static_cast<int64_t>(n);
  for (const auto& [v, n] : CategoricalCounts(b)) cb[v] = static_cast<int64_t>(n);
  return AlignCategories(ca, cb);
}

// Spreads each bucket's count over the union edges, uniformly inside the bucket.
std::vector<double> Rebin(const std::vector<HistogramBucket>& buckets,
                          const std::vector<double>& edges) {
  std::vector<double> out(edges.size() - 1, 0.0);
  for (const HistogramBucket& b : buckets) {
    if (!(b.count > 0)) continue;
    if (!(b.high > b.low)) {  // a point mass (a constant column)
      auto it = std::upper_bound(edges.begin(), edges.end(), b.low);
      size_t i = it == edges.begin() ? 0 : static_cast<size_t>(it - edges.begin()) - 1;
      out[std::min(i, out.size() - 1)] += b.count;
      continue;
    }
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
      double lo = std::max(b.low, edges[i]), hi = std::min(b.high, edges[i + 1]);
      if (hi > lo) out[i] += b.count * (hi - lo) / (b.high - b.low);
    }
  }
  return out;
}

}  // namespace

const char* SeverityName(Severity severity) {
  return severity == Severity::kError ? "ERROR" : "WARNING";
}

const std::vector<AnomalyKind>& AnomalyCatalogue() { return kCatalogue; }

bool ValidationReport::has_errors() const {
  return std::any_of(anomalies.begin(), anomalies.end(),
                     [](const Anomaly& a) { return a.severity == Severity::kError; });
}

std::optional<double> JensenShannonDivergence(const FeatureStats& current,
                                              const FeatureStats& reference) {
  std::vector<double> p, q;
  if (current.has_string && reference.has_string) {
    AlignedCategories a = Align(current, reference);
    p = std::move(a.current_counts);
    q = std::move(a.reference_counts);
  } else if (current.has_numeric && reference.has_numeric && !current.numeric.histogram.empty() &&
             !reference.numeric.histogram.empty()) {
    std::vector<double> edges;
    for (const auto* h : {&current.numeric.histogram, &reference.numeric.histogram}) {
      for (const HistogramBucket& b : *h) {
        if (std::isfinite(b.low)) edges.push_back(b.low);
        if (std::isfinite(b.high)) edges.push_back(b.high);
      }
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    if (edges.size() < 2) return 0.0;  // both the same constant
    p = Rebin(current.numeric.histogram, edges);
    q = Rebin(reference.numeric.histogram, edges);
  } else {
    return std::nullopt;
  }
  auto d = cairn::JensenShannonDistance(p, q);
  if (!d.ok()) return std::nullopt;
  return *d * *d;
}

std::optional<double> LInfinityDistance(const FeatureStats& current, const FeatureStats& reference,
                                        std::string* value) {
  if (!current.has_string || !reference.has_string) return std::nullopt;
  AlignedCategories a = Align(current, reference);
  double pt = 0, qt = 0;
  for (double c : a.current_counts) pt += c;
  for (double c : a.reference_counts) qt += c;
  if (pt <= 0 || qt <= 0) return std::nullopt;
  double best = 0;
  for (size_t i = 0; i < a.categories.size(); ++i) {
    double diff = std::abs(a.current_counts[i] / pt - a.reference_counts[i] / qt);
    if (diff > best) {
      best = diff;
      if (value) *value = a.categories[i] == kOtherValues ? "(other values)" : a.categories[i];
    }
  }
  return best;
}

std::vector<std::string> ColumnsNeedingConformance(const DatasetStats& current,
                                                   const Schema& schema) {
  std::vector<std::string> out;
  for (const FeatureStats& fs : current.features) {
    const FeatureSchema* f = schema.Find(fs.name);
    if (!f) continue;
    bool domain_unsettled = f->domain && fs.count > 0 && !TopValuesComplete(fs);
    if (!ParseAnomaly(*f, fs).empty() || domain_unsettled) out.push_back(fs.name);
  }
  return out;
}

ValidationReport Validate(const DatasetStats& current, const Schema& schema,
                          const DatasetStats* reference,
                          const std::map<std::string, ColumnConformance>& conformance,
                          const ValidateOptions& options) {
  ValidationReport report;
  Reporter r(&report);
  if (schema.min_examples && current.num_rows < *schema.min_examples) {
    r.Add("", "DATASET_LOW_NUM_EXAMPLES",
          "The dataset has " + std::to_string(current.num_rows) +
              " examples, fewer than the minimum " + std::to_string(*schema.min_examples) + ".")
        .value = static_cast<double>(current.num_rows);
    report.anomalies.back().threshold = static_cast<double>(*schema.min_examples);
  }
  if (schema.max_examples && current.num_rows > *schema.max_examples) {
    r.Add("", "DATASET_HIGH_NUM_EXAMPLES",
          "The dataset has " + std::to_string(current.num_rows) +
              " examples, more than the maximum " + std::to_string(*schema.max_examples) + ".")
        .value = static_cast<double>(current.num_rows);
    report.anomalies.back().threshold = static_cast<double>(*schema.max_examples);
  }
  std::map<std::string, const FeatureStats*> by_name;
  for (const FeatureStats& fs : current.features) by_name.emplace(fs.name, &fs);
  std::map<std::string, const FeatureStats*> ref_by_name;
  if (reference) {
    for (const FeatureStats& fs : reference->features) ref_by_name.emplace(fs.name, &fs);
  }

  for (const FeatureSchema& f : schema.features) {
    auto found = by_name.find(f.name);
    if (found == by_name.end()) {
      Anomaly& a = r.Add(f.name, "SCHEMA_MISSING_COLUMN",
                         "Column is completely missing: the schema has feature '" + f.name +
                             "' but the data has no such column.");
      if (f.min_fraction == 0 && f.min_count == 0) a.severity = Severity::kWarning;
      continue;
    }
    const FeatureStats& fs = *found->second;
    const ColumnType d = fs.type;
    auto conf_it = conformance.find(f.name);
    const ColumnConformance* conf = conf_it == conformance.end() ? nullptr : &conf_it->second;

    // Presence.
    if (current.num_rows > 0) {
      double present = static_cast<double>(fs.count) / static_cast<double>(current.num_rows);
      if (present + 1e-12 < f.min_fraction) {
        Anomaly& a = r.Add(f.name, "FEATURE_TYPE_LOW_FRACTION_PRESENT",
                           "The feature was present in fewer examples than expected: minimum "
                           "fraction = " +
                               Sig(f.min_fraction) + ", actual = " + Sig(present) + ".");
        a.value = present;
        a.threshold = f.min_fraction;
        a.fraction = 1 - present;
      }
    }
    if (fs.count < f.min_count) {
      Anomaly& a =
          r.Add(f.name, "FEATURE_TYPE_LOW_NUMBER_PRESENT",
                "The feature was present in fewer examples than expected: minimum "
                "count = " +
                    std::to_string(f.min_count) + ", actual = " + std::to_string(fs.count) + ".");
      a.value = static_cast<double>(fs.count);
      a.threshold = static_cast<double>(f.min_count);
    }

    // Type.
    bool type_ok = true;
    const std::string parse_anomaly = ParseAnomaly(f, fs);
    if (!parse_anomaly.empty()) {
      type_ok = false;
      std::string what = parse_anomaly == "INT_TYPE_NOT_INT_STRING"
                             ? "Int feature has values that cannot be parsed as int"
                         : parse_anomaly == "FLOAT_TYPE_STRING_NOT_FLOAT"
                             ? "Float feature has values that cannot be parsed as float"
                             : "Bool feature has values other than " +
                                   f.bool_domain.value_or(BoolDomain{}).true_value + " and " +
                                   f.bool_domain.value_or(BoolDomain{}).false_value;
      if (conf) {
        if (conf->not_type.total > 0) {
          std::vector<TopValue> ex = conf->not_type.Sorted();
          Anomaly& a = r.Add(f.name, parse_anomaly,
                             what + ": " + std::to_string(conf->not_type.total) + " of " +
                                 std::to_string(conf->values) + " values, e.g. " +
                                 ExampleList(ex, conf->values) + ".");
          a.examples = std::move(ex);
          a.value = static_cast<double>(conf->not_type.total);
          if (conf->values > 0) {
            a.fraction = static_cast<double>(conf->not_type.total) / conf->values;
          }
        } else {
          type_ok = true;  // every value parses after all (say 0/1 against a "1"/"0" domain)
        }
      } else {
        r.Add(f.name, parse_anomaly, what + " (the column reads as " + ColumnTypeName(d) + ").");
      }
    } else if (d != ColumnType::kEmpty) {
      if ((f.type == FeatureType::kInt && d == ColumnType::kFloat) ||
          (f.type == FeatureType::kTimestamp && d != ColumnType::kTimestamp)) {
        type_ok = false;
        r.Add(f.name, "UNEXPECTED_DATA_TYPE",
              std::string("Expected data of type: ") + FeatureTypeName(f.type) + " but got " +
                  ColumnTypeName(d) + ".");
      } else if (f.type == FeatureType::kBool && d == ColumnType::kFloat) {
        type_ok = false;
        r.Add(f.name, "BOOL_TYPE_UNEXPECTED_FLOAT", "Float values in a boolean feature.");
      } else if (f.type == FeatureType::kBool && d == ColumnType::kInt && fs.has_numeric) {
        if (fs.numeric.max > 1) {
          type_ok = false;
          r.Add(f.name, "BOOL_TYPE_BIG_INT",
                "Integers (such as " + Sig(fs.numeric.max) + ") not in {0, 1}.")
              .value = fs.numeric.max;
        }
        if (fs.numeric.min < 0) {
          type_ok = false;
          r.Add(f.name, "BOOL_TYPE_SMALL_INT",
                "Integers (such as " + Sig(fs.numeric.min) + ") not in {0, 1}.")
              .value = fs.numeric.min;
        }
      }
    }

    // Values, once the type holds.
    if (type_ok && fs.has_numeric && fs.numeric.finite > 0 &&
        (f.type == FeatureType::kInt || f.type == FeatureType::kFloat)) {
      const bool is_int = f.type == FeatureType::kInt;
      if (f.max && fs.numeric.max > *f.max) {
        Anomaly& a = r.Add(f.name, is_int ? "INT_TYPE_BIG_INT" : "FLOAT_TYPE_BIG_FLOAT",
                           "Unexpectedly high values: " + Sig(fs.numeric.max) + " > " +
                               Sig(*f.max) + " (up to six significant digits).");
        a.value = fs.numeric.max;
        a.threshold = *f.max;
      }
      if (f.min && fs.numeric.min < *f.min) {
        Anomaly& a = r.Add(f.name, is_int ? "INT_TYPE_SMALL_INT" : "FLOAT_TYPE_SMALL_FLOAT",
                           "Unexpectedly low values: " + Sig(fs.numeric.min) + " < " + Sig(*f.min) +
                               " (up to six significant digits).");
        a.value = fs.numeric.min;
        a.threshold = *f.min;
      }
    }
    if (type_ok && f.type == FeatureType::kFloat && fs.has_numeric) {
      if (!f.allow_nan && fs.numeric.nan > 0) {
        Anomaly& a = r.Add(f.name, "FLOAT_TYPE_HAS_NAN",
                           "Float feature has NaN values: " + std::to_string(fs.numeric.nan) +
                               " of " + std::to_string(fs.count) + ".");
        a.value = static_cast<double>(fs.numeric.nan);
        if (fs.count > 0) a.fraction = static_cast<double>(fs.numeric.nan) / fs.count;
      }
      if (!f.allow_inf && fs.numeric.inf > 0) {
        Anomaly& a = r.Add(f.name, "FLOAT_TYPE_HAS_INF",
                           "Float feature has Inf values: " + std::to_string(fs.numeric.inf) +
                               " of " + std::to_string(fs.count) + ".");
        a.value = static_cast<double>(fs.numeric.inf);
        if (fs.count > 0) a.fraction = static_cast<double>(fs.numeric.inf) / fs.count;
      }
    }
    if (f.type == FeatureType::kString && f.domain && fs.count > 0) {
      std::vector<TopValue> ex;
      int64_t outside = 0, values = fs.count;
      bool known = true;
      if (conf) {
        outside = conf->out_of_domain.total;
        values = conf->values;
        ex = conf->out_of_domain.Sorted();
      } else if (TopValuesComplete(fs)) {
        std::set<std::string> domain(f.domain->begin(), f.domain->end());
        for (const TopValue& t : fs.string.top_k) {
          if (!domain.count(t.value)) {
            outside += t.count;
            if (ex.size() < kMaxExamples) ex.push_back(t);
          }
        }
      } else {
        known = false;
      }
      double fraction = values > 0 ? static_cast<double>(outside) / values : 0;
      if (known && outside > 0 && fraction > 1 - f.min_domain_mass + 1e-12) {
        Anomaly& a = r.Add(
            f.name, "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "Examples contain values missing from the schema: " + ExampleList(ex, values) + ".");
        a.examples = std::move(ex);
        a.fraction = fraction;
        a.value = static_cast<double>(outside);
        a.threshold = 1 - f.min_domain_mass;
      }
    }
    if (f.type == FeatureType::kString && fs.has_string && fs.string.invalid_utf8 > 0) {
      Anomaly& a =
          r.Add(f.name, "ENUM_TYPE_INVALID_UTF8",
                "Some values are not valid UTF-8: " + std::to_string(fs.string.invalid_utf8) +
                    " of " + std::to_string(fs.count) + ".");
      a.value = static_cast<double>(fs.string.invalid_utf8);
      if (fs.count > 0) a.fraction = static_cast<double>(fs.string.invalid_utf8) / fs.count;
    }
    if (fs.has_string) {
      const std::string approx = fs.string.unique_is_estimate ? "about " : "";
      if (f.unique_min && fs.string.unique < *f.unique_min) {
        Anomaly& a = r.Add(f.name, "FEATURE_TYPE_LOW_UNIQUE",
                           "Expected at least " + std::to_string(*f.unique_min) +
                               " unique values but found " + approx +
                               std::to_string(fs.string.unique) + ".");
        a.value = static_cast<double>(fs.string.unique);
        a.threshold = static_cast<double>(*f.unique_min);
      }
      if (f.unique_max && fs.string.unique > *f.unique_max) {
        Anomaly& a = r.Add(f.name, "FEATURE_TYPE_HIGH_UNIQUE",
                           "Expected no more than " + std::to_string(*f.unique_max) +
                               " unique values but found " + approx +
                               std::to_string(fs.string.unique) + ".");
        a.value = static_cast<double>(fs.string.unique);
        a.threshold = static_cast<double>(*f.unique_max);
      }
    }

    // Comparators against the reference.
    const Comparator& cmp =
        options.role == ReferenceRole::kDrift ? f.drift_comparator : f.skew_comparator;
    auto ref_it = ref_by_name.find(f.name);
    if (reference && !cmp.empty() && ref_it != ref_by_name.end()) {
      const FeatureStats& rf = *ref_it->second;
      const char* between =
          options.role == ReferenceRole::kDrift ? "current and previous" : "training and serving";
      if (cmp.l_infinity) {
        std::string worst;
        auto dist = LInfinityDistance(fs, rf, &worst);
        if (dist && *dist > *cmp.l_infinity) {
          Anomaly& a =
              r.Add(f.name, "COMPARATOR_L_INFTY_HIGH",
                    std::string("The Linfty distance between ") + between + " is " + Sig(*dist) +
                        " (up to six significant digits), above the "
                        "threshold " +
                        Sig(*cmp.l_infinity) +
                        ". The feature value with maximum difference is: " + Printable(worst));
          a.short_description = std::string("High Linfty distance between ") + between;
          a.value = *dist;
          a.threshold = *cmp.l_infinity;
        }
      }
      if (cmp.jensen_shannon) {
        auto div = JensenShannonDivergence(fs, rf);
        if (div && *div > *cmp.jensen_shannon) {
          Anomaly& a = r.Add(f.name, "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
                             std::string("The approximate Jensen-Shannon divergence between ") +
                                 between + " is " + Sig(*div) +
                                 " (up to six significant digits), above the threshold " +
                                 Sig(*cmp.jensen_shannon) + ".");
          a.short_description =
              std::string("High approximate Jensen-Shannon divergence between ") + between;
          a.value = *div;
          a.threshold = *cmp.jensen_shannon;
        }
      }
    }
  }
  for (const FeatureStats& fs : current.features) {
    if (!schema.Find(fs.name)) {
      r.Add(fs.name, "SCHEMA_NEW_COLUMN", "New column (column in data but not in schema).");
    }
  }
  return report;
}

Result<ValidationReport> ValidateTable(const DatasetStats& current,
                                       const std::filesystem::path& path,
                                       const ReaderOptions& reader_options, const Schema& schema,
                                       const DatasetStats* reference,
                                       const ValidateOptions& options) {
  std::map<std::string, ColumnConformance> conformance;
  std::vector<std::string> columns = ColumnsNeedingConformance(current, schema);
  if (!columns.empty()) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                           TableReader::Open(path, reader_options));
    CAIRN_ASSIGN_OR_RETURN(conformance, CheckConformance(*reader, schema, columns));
  }
  return Validate(current, schema, reference, conformance, options);
}

json ValidationToJson(const ValidationReport& report) {
  json anomalies = json::array();
  int64_t errors = 0, warnings = 0;
  for (const Anomaly& a : report.anomalies) {
    (a.severity == Severity::kError ? errors : warnings)++;
    json j = {{"feature", a.feature},
              {"type", a.type},
              {"severity", SeverityName(a.severity)},
              {"short_description", a.short_description},
              {"description", a.description}};
    if (!a.examples.empty()) {
      json ex = json::array();
      for (const TopValue& t : a.examples) ex.push_back({{"value", t.value}, {"count", t.count}});
      j["examples"] = std::move(ex);
    }
    if (a.fraction) j["fraction"] = *a.fraction;
    if (a.value) j["value"] = *a.value;
    if (a.threshold) j["threshold"] = *a.threshold;
    anomalies.push_back(std::move(j));
  }
  return {{"anomalies", std::move(anomalies)},
          {"clean", report.clean()},
          {"errors", errors},
          {"warnings", warnings}};
}

std::string ValidationTable(const ValidationReport& report) {
  if (report.clean()) return "No anomalies found.\n";
  std::vector<std::vector<std::string>> rows = {{"SEVERITY", "FEATURE", "ANOMALY", "DESCRIPTION"}};
  for (const Anomaly& a : report.anomalies) {
    rows.push_back({SeverityName(a.severity),
                    a.feature.empty() ? "(dataset)" : Printable(a.feature), a.type, a.description});
  }
  std::vector<size_t> width(3, 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < 3; ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < 3; ++i) out += row[i] + std::string(width[i] - row[i].size() + 2, ' ');
    out += row[3] + "\n";
  }
  int64_t errors = 0;
  for (const Anomaly& a : report.anomalies) errors += a.severity == Severity::kError;
  out += std::to_string(report.anomalies.size()) + " anomalies (" + std::to_string(errors) +
         " errors)\n";
  return out;
}

}  // namespace cairn::data
