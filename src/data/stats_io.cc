// StatsFromJson: reads cairn.stats/1 JSON field by field, with errors that name
// the JSON path of the offending field so a hand-edited file is easy to fix.
#include "data/stats_io.h"

#include <cmath>
#include <limits>
#include <string>

namespace cairn::data {
namespace {

using nlohmann::json;

// Reads fields of one JSON object; the first error wins and names path.field.
class FieldReader {
 public:
  FieldReader(const json& obj, std::string path, Status* status)
      : obj_(obj), path_(std::move(path)), status_(status) {
    if (!obj_.is_object()) Fail(path_.empty() ? "the statistics" : path_, "an object");
  }

  const json* Get(const char* key, bool required) {
    if (!status_->ok() || !obj_.is_object()) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) {
        *status_ = InvalidParameter("statistics JSON: missing field '" + Name(key) + "'");
      }
      return nullptr;
    }
    return &*it;
  }
  int64_t Int(const char* key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return 0;
    if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
    if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()) {
      return static_cast<int64_t>(v->get<double>());
    }
    Fail(Name(key), "an integer");
    return 0;
  }
  double Double(const char* key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return 0;
    if (v->is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (v->is_number()) return v->get<double>();
    Fail(Name(key), "a number or null");
    return 0;
  }
  bool Bool(const char* key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return false;
    if (v->is_boolean()) return v->get<bool>();
    Fail(Name(key), "true or false");
    return false;
  }
  std::string String(const char* key, bool required = true) {
    const json* v = Get(key, required);
    if (!v) return "";
    if (v->is_string()) return v->get<std::string>();
    Fail(Name(key), "a string");
    return "";
  }
  const json* Array(const char* key, bool required = true) {
    const json* v = Get(key, required);
    if (v && !v->is_array()) {
      Fail(Name(key), "an array");
      return nullptr;
    }
    return v;
  }
  std::string Name(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  void Fail(const std::string& name, const char* expected) {
    if (status_->ok()) {
      *status_ = InvalidParameter("statistics JSON: '" + name + "' must be " + expected);
    }
  }

 private:
  const json& obj_;
  std::string path_;
  Status* status_;
};

std::vector<HistogramBucket> ReadBuckets(FieldReader& parent, const char* key, Status* status) {
  std::vector<HistogramBucket> out;
  const json* a = parent.Array(key, false);
  if (!a) return out;
  for (size_t i = 0; i < a->size() && status->ok(); ++i) {
    FieldReader b((*a)[i], parent.Name(key) + "[" + std::to_string(i) + "]", status);
    HistogramBucket bucket;
    bucket.low = b.Double("low");
    bucket.high = b.Double("high");
    bucket.count = b.Double("count");
    out.push_back(bucket);
  }
  return out;
}

}  // namespace

Result<ColumnType> ColumnTypeFromName(std::string_view name) {
  for (ColumnType t : {ColumnType::kEmpty, ColumnType::kBool, ColumnType::kInt, ColumnType::kFloat,
                       ColumnType::kTimestamp, ColumnType::kString}) {
    if (name == ColumnTypeName(t)) return t;
  }
  return InvalidParameter("unknown column type '" + std::string(name) +
                          "' (expected empty, bool, int, float, timestamp or string)");
}

Result<DatasetStats> StatsFromJson(const json& j) {
  Status status;
  FieldReader root(j, "", &status);
  DatasetStats stats;
  std::string format = root.String("format");
  if (status.ok() && format != kStatsFormat) {
    return InvalidParameter("statistics JSON: format is '" + format + "', expected '" +
                            kStatsFormat + "' (the output of `cairn data stats --json`)");
  }
  stats.source = root.String("source", false);
  stats.num_rows = root.Int("num_rows");
  stats.exact = root.Bool("exact", false);
  const json* features = root.Array("features");
  CAIRN_RETURN_IF_ERROR(status);
  for (size_t i = 0; i < features->size(); ++i) {
    FieldReader f((*features)[i], "features[" + std::to_string(i) + "]", &status);
    FeatureStats fs;
    fs.name = f.String("name");
    std::string type = f.String("type");
    CAIRN_RETURN_IF_ERROR(status);
    auto parsed = ColumnTypeFromName(type);
    if (!parsed.ok()) {
      return InvalidParameter("statistics JSON: " + f.Name("type") + ": " +
                              parsed.status().message());
    }
    fs.type = *parsed;
    fs.count = f.Int("count");
    fs.missing = f.Int("missing");
    fs.missing_fraction = f.Double("missing_fraction", false);
    if (const json* n = f.Get("numeric", false)) {
      FieldReader r(*n, f.Name("numeric"), &status);
      NumericStats& ns = fs.numeric;
      fs.has_numeric = true;
      ns.finite = r.Int("finite");
      ns.mean = r.Double("mean");
      ns.std_dev = r.Double("std_dev");
      ns.zeros = r.Int("zeros", false);
      ns.nan = r.Int("nan", false);
      ns.inf = r.Int("inf", false);
      ns.min = r.Double("min");
      ns.median = r.Double("median", false);
      ns.max = r.Double("max");
      if (const json* q = r.Array("quantiles", false)) {
        for (size_t k = 0; k < q->size() && status.ok(); ++k) {
          FieldReader qr((*q)[k], r.Name("quantiles") + "[" + std::to_string(k) + "]", &status);
          ns.quantiles.push_back(qr.Double("value"));
        }
      }
      ns.histogram = ReadBuckets(r, "histogram", &status);
      ns.quantile_histogram = ReadBuckets(r, "quantile_histogram", &status);
      ns.quantiles_are_estimate = r.Bool("quantiles_are_estimate", false);
      ns.rank_error_bound = r.Double("rank_error_bound", false);
    }
    if (const json* s = f.Get("string", false)) {
      FieldReader r(*s, f.Name("string"), &status);
      StringStats& ss = fs.string;
      fs.has_string = true;
      ss.unique = r.Int("unique");
      ss.unique_is_estimate = r.Bool("unique_is_estimate", false);
      if (const json* top = r.Array("top_k", false)) {
        for (size_t k = 0; k < top->size() && status.ok(); ++k) {
          FieldReader t((*top)[k], r.Name("top_k") + "[" + std::to_string(k) + "]", &status);
          TopValue tv;
          tv.value = t.String("value");
          tv.count = t.Int("count");
          ss.top_k.push_back(std::move(tv));
        }
      }
      ss.top_k_is_estimate = r.Bool("top_k_is_estimate", false);
      ss.avg_length = r.Double("avg_length", false);
      ss.invalid_utf8 = r.Int("invalid_utf8", false);
    }
    CAIRN_RETURN_IF_ERROR(status);
    if (fs.count < 0 || fs.missing < 0) {
      return InvalidParameter("statistics JSON: " + f.Name("count") + " and " + f.Name("missing") +
                              " must not be negative");
    }
    stats.features.push_back(std::move(fs));
  }
  if (stats.num_rows < 0) return InvalidParameter("statistics JSON: 'num_rows' is negative");
  return stats;
}

Result<DatasetStats> StatsFromJsonText(std::string_view text, std::string_view source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return InvalidParameter(
        std::string(source) +
        ": not valid JSON (expected statistics from `cairn data stats --json`)");
  }
  auto stats = StatsFromJson(j);
  if (!stats.ok()) return InvalidParameter(std::string(source) + ": " + stats.status().message());
  return stats;
}

}  // namespace cairn::data
