// Schema inference from statistics, and the schema file: JSON/YAML writers (one
// JSON form, emitted as YAML by a generic walk) and one reader over yaml-cpp's
// node tree (JSON is YAML), so both forms get file:line:col errors.
#include "data/schema.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/fs.h"
#include "data/utf8.h"

namespace cairn::data {
namespace {

using nlohmann::json;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string ShortestDouble(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  // Keep it a float to a YAML reader (1 -> 1.0) only when it is not integral-looking on purpose:
  // integral doubles are fine as plain numbers for every field we write.
  return s;
}

// Keys in the order they were added (ordered_json), so the file reads name, type, ... first.
using ojson = nlohmann::ordered_json;

// Small maps and lists of scalars are written in flow style ({a: 1}, [x, y]) to keep the file
// short; strings are double-quoted so values like "1", "true" or "null" stay strings, except
// the enumerations (format, type) which are plain for readability.
void EmitJson(YAML::Emitter& out, const ojson& j, bool plain_string = false) {
  auto all_scalars = [&j] {
    return std::all_of(j.begin(), j.end(), [](const ojson& e) { return e.is_primitive(); });
  };
  switch (j.type()) {
    case ojson::value_t::object:
      if (all_scalars() && j.size() <= 3) out << YAML::Flow;
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        EmitJson(out, it.value(), it.key() == "format" || it.key() == "type");
      }
      out << YAML::EndMap;
      break;
    case ojson::value_t::array:
      if (all_scalars()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const ojson& e : j) EmitJson(out, e);
      out << YAML::EndSeq;
      break;
    case ojson::value_t::string:
      if (plain_string) {
        out << j.get<std::string>();
      } else {
        out << YAML::DoubleQuoted << j.get<std::string>();
      }
      break;
    case ojson::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      break;
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned:
      out << std::to_string(j.get<int64_t>());
      break;
    case ojson::value_t::number_float:
      out << ShortestDouble(j.get<double>());
      break;
    default:
      out << YAML::Null;
  }
}

ojson ComparatorJson(const Comparator& c) {
  ojson j = ojson::object();
  if (c.l_infinity) j["l_infinity"] = *c.l_infinity;
  if (c.jensen_shannon) j["jensen_shannon"] = *c.jensen_shannon;
  return j;
}

// ---- Reading ------------------------------------------------------------------------------

class SchemaReader {
 public:
  explicit SchemaReader(std::string_view source) : source_(source) {}

  Status Error(const YAML::Mark& mark, const std::string& msg) const {
    if (mark.is_null() || mark.line < 0) return InvalidParameter(source_ + ": " + msg);
    return InvalidParameter(source_ + ":" + std::to_string(mark.line + 1) + ":" +
                            std::to_string(mark.column + 1) + ": " + msg);
  }

  Result<Schema> Read(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return Error(e.mark, "not valid YAML or JSON: " + e.msg);
    }
    try {
      return ReadRoot(root);
    } catch (const YAML::Exception& e) {
      return Error(e.mark, e.msg);
    }
  }

 private:
  // Iterates a mapping's keys, refusing non-string, duplicate and unknown keys.
  template <typename Fn>
  Status ForEachKey(const YAML::Node& map, const char* what, const std::set<std::string>& known,
                    Fn&& fn) const {
    if (!map.IsMap()) return Error(map.Mark(), std::string(what) + " must be a mapping");
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node& key = it->first;
      if (!key.IsScalar()) return Error(key.Mark(), "keys must be plain strings");
      const std::string k = key.Scalar();
      if (!seen.insert(k).second) return Error(key.Mark(), "duplicate key '" + k + "'");
      if (!known.count(k)) {
        std::string list;
        for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
        return Error(key.Mark(),
                     "unknown key '" + k + "' in " + what + " (expected one of: " + list + ")");
      }
      CAIRN_RETURN_IF_ERROR(fn(k, it->second, key.Mark()));
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) return Error(v.Mark(), "'" + key + "' must be a string");
    return v.Scalar();
  }
  Result<double> Double(const YAML::Node& v, const std::string& key) const {
    double d = 0;
    if (!v.IsScalar() || !YAML::convert<double>::decode(v, d)) {
      return Error(v.Mark(), "'" + key + "' must be a number");
    }
    return d;
  }
  Result<double> Fraction(const YAML::Node& v, const std::string& key) const {
    CAIRN_ASSIGN_OR_RETURN(double d, Double(v, key));
    if (!(d >= 0 && d <= 1)) return Error(v.Mark(), "'" + key + "' must be between 0 and 1");
    return d;
  }
  Result<int64_t> Count(const YAML::Node& v, const std::string& key) const {
    int64_t n = 0;
    if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, n) || n < 0) {
      return Error(v.Mark(), "'" + key + "' must be a non-negative integer");
    }
    return n;
  }
  Result<bool> Bool(const YAML::Node& v, const std::string& key) const {
    bool b = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) {
      return Error(v.Mark(), "'" + key + "' must be true or false");
    }
    return b;
  }

  Result<Comparator> ReadComparator(const YAML::Node& node, const std::string& key) const {
    Comparator c;
    Status st = ForEachKey(node, key.c_str(), {"l_infinity", "jensen_shannon"},
                           [&](const std::string& k, const YAML::Node& v, const YAML::Mark&) {
                             auto d = Double(v, k);
                             if (!d.ok()) return d.status();
                             if (!(*d >= 0 && *d <= 1)) {
                               return Error(v.Mark(), "'" + k + "' must be between 0 and 1");
                             }
                             (k == "l_infinity" ? c.l_infinity : c.jensen_shannon) = *d;
                             return Status::Ok();
                           });
    CAIRN_RETURN_IF_ERROR(st);
    return c;
  }

  Result<FeatureSchema> ReadFeature(const YAML::Node& node) const {
    FeatureSchema f;
    bool has_name = false, has_type = false, has_presence = false;
    std::optional<double> max_missing;
    YAML::Mark max_missing_mark;
    Status st = ForEachKey(
        node, "a feature",
        {"name", "type", "presence", "max_missing_fraction", "domain", "min_domain_mass",
         "bool_domain", "min", "max", "allow_nan", "allow_inf", "unique", "skew_comparator",
         "drift_comparator"},
        [&](const std::string& k, const YAML::Node& v, const YAML::Mark& mark) -> Status {
          if (k == "name") {
            CAIRN_ASSIGN_OR_RETURN(f.name, String(v, k));
            has_name = true;
          } else if (k == "type") {
            CAIRN_ASSIGN_OR_RETURN(std::string t, String(v, k));
            auto type = FeatureTypeFromName(t);
            if (!type.ok()) return Error(v.Mark(), type.status().message());
            f.type = *type;
            has_type = true;
          } else if (k == "presence") {
            has_presence = true;
            return ForEachKey(
                v, "presence", {"min_fraction", "min_count"},
                [&](const std::string& pk, const YAML::Node& pv, const YAML::Mark&) -> Status {
                  if (pk == "min_fraction") {
                    CAIRN_ASSIGN_OR_RETURN(f.min_fraction, Fraction(pv, pk));
                  } else {
                    CAIRN_ASSIGN_OR_RETURN(f.min_count, Count(pv, pk));
                  }
                  return Status::Ok();
                });
          } else if (k == "max_missing_fraction") {
            CAIRN_ASSIGN_OR_RETURN(double d, Fraction(v, k));
            max_missing = d;
            max_missing_mark = mark;
          } else if (k == "domain") {
            if (!v.IsSequence()) return Error(v.Mark(), "'domain' must be a list of values");
            std::vector<std::string> values;
            std::set<std::string> seen;
            for (const YAML::Node& e : v) {
              if (!e.IsScalar()) return Error(e.Mark(), "domain values must be strings");
              if (!seen.insert(e.Scalar()).second) {
                return Error(e.Mark(), "domain value '" + e.Scalar() + "' is listed twice");
              }
              values.push_back(e.Scalar());
            }
            f.domain = std::move(values);
          } else if (k == "min_domain_mass") {
            CAIRN_ASSIGN_OR_RETURN(f.min_domain_mass, Fraction(v, k));
          } else if (k == "bool_domain") {
            BoolDomain b;
            CAIRN_RETURN_IF_ERROR(ForEachKey(
                v, "bool_domain", {"true_value", "false_value"},
                [&](const std::string& bk, const YAML::Node& bv, const YAML::Mark&) -> Status {
                  CAIRN_ASSIGN_OR_RETURN(std::string s, String(bv, bk));
                  (bk == "true_value" ? b.true_value : b.false_value) = s;
                  return Status::Ok();
                }));
            if (b.true_value == b.false_value) {
              return Error(v.Mark(), "bool_domain's true_value and false_value must differ");
            }
            f.bool_domain = b;
          } else if (k == "min") {
            CAIRN_ASSIGN_OR_RETURN(double d, Double(v, k));
            f.min = d;
          } else if (k == "max") {
            CAIRN_ASSIGN_OR_RETURN(double d, Double(v, k));
            f.max = d;
          } else if (k == "allow_nan") {
            CAIRN_ASSIGN_OR_RETURN(f.allow_nan, Bool(v, k));
          } else if (k == "allow_inf") {
            CAIRN_ASSIGN_OR_RETURN(f.allow_inf, Bool(v, k));
          } else if (k == "unique") {
            return ForEachKey(
                v, "unique", {"min", "max"},
                [&](const std::string& uk, const YAML::Node& uv, const YAML::Mark&) -> Status {
                  CAIRN_ASSIGN_OR_RETURN(int64_t n, Count(uv, uk));
                  (uk == "min" ? f.unique_min : f.unique_max) = n;
                  return Status::Ok();
                });
          } else if (k == "skew_comparator") {
            CAIRN_ASSIGN_OR_RETURN(f.skew_comparator, ReadComparator(v, k));
          } else if (k == "drift_comparator") {
            CAIRN_ASSIGN_OR_RETURN(f.drift_comparator, ReadComparator(v, k));
          }
          return Status::Ok();
        });
    CAIRN_RETURN_IF_ERROR(st);
    if (!has_name || f.name.empty()) return Error(node.Mark(), "a feature needs a 'name'");
    if (!has_type) return Error(node.Mark(), "feature '" + f.name + "' needs a 'type'");
    if (max_missing) {
      if (has_presence) {
        return Error(max_missing_mark, "feature '" + f.name +
                                           "': give either presence.min_fraction or "
                                           "max_missing_fraction, not both");
      }
      f.min_fraction = 1 - *max_missing;
    }
    auto refuse = [&](const char* what, const char* types) {
      return Error(node.Mark(), "feature '" + f.name + "': '" + what + "' applies to " + types +
                                    " features, not " + FeatureTypeName(f.type));
    };
    const bool numeric = f.type == FeatureType::kInt || f.type == FeatureType::kFloat;
    if ((f.min || f.max) && !numeric) return refuse("min/max", "INT and FLOAT");
    if (f.min && f.max && *f.min > *f.max) {
      return Error(node.Mark(), "feature '" + f.name + "': min is greater than max");
    }
    if (f.domain && f.type != FeatureType::kString) return refuse("domain", "STRING");
    if (f.bool_domain && f.type != FeatureType::kBool) return refuse("bool_domain", "BOOL");
    if ((!f.allow_nan || !f.allow_inf) && f.type != FeatureType::kFloat) {
      return refuse("allow_nan/allow_inf", "FLOAT");
    }
    if (f.unique_min && f.unique_max && *f.unique_min > *f.unique_max) {
      return Error(node.Mark(), "feature '" + f.name + "': unique.min is greater than unique.max");
    }
    return f;
  }

  Result<Schema> ReadRoot(const YAML::Node& root) const {
    if (!root.IsMap()) {
      return Error(root.Mark(), "a schema must be a mapping with 'format: " +
                                    std::string(kSchemaFormat) + "' and 'features'");
    }
    Schema schema;
    bool has_format = false, has_features = false;
    std::set<std::string> names;
    Status st = ForEachKey(
        root, "the schema", {"format", "min_examples", "max_examples", "features"},
        [&](const std::string& k, const YAML::Node& v, const YAML::Mark&) -> Status {
          if (k == "format") {
            CAIRN_ASSIGN_OR_RETURN(std::string fmt, String(v, k));
            if (fmt != kSchemaFormat) {
              return Error(v.Mark(), "format is '" + fmt + "', expected '" + kSchemaFormat + "'");
            }
            has_format = true;
          } else if (k == "min_examples") {
            CAIRN_ASSIGN_OR_RETURN(int64_t n, Count(v, k));
            schema.min_examples = n;
          } else if (k == "max_examples") {
            CAIRN_ASSIGN_OR_RETURN(int64_t n, Count(v, k));
            schema.max_examples = n;
          } else {
            has_features = true;
            if (!v.IsSequence()) return Error(v.Mark(), "'features' must be a list");
            for (const YAML::Node& fn : v) {
              CAIRN_ASSIGN_OR_RETURN(FeatureSchema f, ReadFeature(fn));
              if (!names.insert(f.name).second) {
                return Error(fn.Mark(), "feature '" + f.name + "' is defined twice");
              }
              schema.features.push_back(std::move(f));
            }
          }
          return Status::Ok();
        });
    CAIRN_RETURN_IF_ERROR(st);
    if (!has_format) {
      return Error(root.Mark(), "missing 'format: " + std::string(kSchemaFormat) + "'");
    }
    if (!has_features) return Error(root.Mark(), "missing 'features'");
    if (schema.min_examples && schema.max_examples && *schema.min_examples > *schema.max_examples) {
      return Error(root.Mark(), "min_examples is greater than max_examples");
    }
    return schema;
  }

  std::string source_;
};

}  // namespace

const char* FeatureTypeName(FeatureType type) {
  switch (type) {
    case FeatureType::kInt:
      return "INT";
    case FeatureType::kFloat:
      return "FLOAT";
    case FeatureType::kString:
      return "STRING";
    case FeatureType::kBool:
      return "BOOL";
    case FeatureType::kTimestamp:
      return "TIMESTAMP";
  }
  return "STRING";
}

Result<FeatureType> FeatureTypeFromName(std::string_view name) {
  for (FeatureType t : {FeatureType::kInt, FeatureType::kFloat, FeatureType::kString,
                        FeatureType::kBool, FeatureType::kTimestamp}) {
    if (IEquals(name, FeatureTypeName(t))) return t;
  }
  if (IEquals(name, "BYTES")) return FeatureType::kString;
  return InvalidParameter("unknown feature type '" + std::string(name) +
                          "' (expected INT, FLOAT, STRING, BOOL or TIMESTAMP)");
}

const FeatureSchema* Schema::Find(std::string_view name) const {
  for (const auto& f : features) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

StatsOptions SchemaStatsOptions(StatsOptions base) {
  base.top_k = std::max(base.top_k, kMaxDomainValues);
  return base;
}

Schema InferSchema(const DatasetStats& stats) {
  Schema schema;
  for (const FeatureStats& fs : stats.features) {
    FeatureSchema f;
    f.name = fs.name;
    switch (fs.type) {
      case ColumnType::kInt:
        // TFDV gives an int feature holding only 0 and 1 a bool domain.
        if (fs.has_numeric && fs.numeric.finite > 0 && fs.numeric.min == 0 && fs.numeric.max == 1) {
          f.type = FeatureType::kBool;
          f.bool_domain = BoolDomain{"1", "0"};
        } else {
          f.type = FeatureType::kInt;
        }
        break;
      case ColumnType::kFloat:
        f.type = FeatureType::kFloat;
        f.allow_nan = fs.numeric.nan > 0;
        f.allow_inf = fs.numeric.inf > 0;
        break;
      case ColumnType::kBool:
        f.type = FeatureType::kBool;
        f.bool_domain = BoolDomain{};
        break;
      case ColumnType::kTimestamp:
        f.type = FeatureType::kTimestamp;
        break;
      case ColumnType::kString:
      case ColumnType::kEmpty:
        f.type = FeatureType::kString;
        break;
    }
    if (fs.count > 0) f.min_count = 1;
    if (fs.missing == 0 && fs.count > 0) f.min_fraction = 1;
    if (fs.type == ColumnType::kString && fs.has_string) {
      const StringStats& s = fs.string;
      bool complete = !s.unique_is_estimate && !s.top_k_is_estimate && s.unique > 0 &&
                      s.unique <= kMaxDomainValues &&
                      static_cast<int64_t>(s.top_k.size()) == s.unique;
      bool valid = std::all_of(s.top_k.begin(), s.top_k.end(),
                               [](const TopValue& t) { return IsValidUtf8(t.value); });
      if (complete && valid) {
        std::vector<std::string> values;
        for (const TopValue& t : s.top_k) values.push_back(t.value);
        std::sort(values.begin(), values.end());
        f.domain = std::move(values);
      }
    }
    schema.features.push_back(std::move(f));
  }
  return schema;
}

static ojson SchemaToOrderedJson(const Schema& schema) {
  ojson features = ojson::array();
  for (const FeatureSchema& f : schema.features) {
    ojson j = {{"name", f.name}, {"type", FeatureTypeName(f.type)}};
    if (f.min_fraction > 0 || f.min_count > 0) {
      j["presence"] = ojson{{"min_fraction", f.min_fraction}, {"min_count", f.min_count}};
    }
    if (f.domain) j["domain"] = *f.domain;
    if (f.domain && f.min_domain_mass != 1.0) j["min_domain_mass"] = f.min_domain_mass;
    if (f.bool_domain) {
      j["bool_domain"] = ojson{{"true_value", f.bool_domain->true_value},
                               {"false_value", f.bool_domain->false_value}};
    }
    if (f.min) j["min"] = *f.min;
    if (f.max) j["max"] = *f.max;
    if (f.type == FeatureType::kFloat) {
      j["allow_nan"] = f.allow_nan;
      j["allow_inf"] = f.allow_inf;
    }
    if (f.unique_min || f.unique_max) {
      ojson u = ojson::object();
      if (f.unique_min) u["min"] = *f.unique_min;
      if (f.unique_max) u["max"] = *f.unique_max;
      j["unique"] = u;
    }
    if (!f.skew_comparator.empty()) j["skew_comparator"] = ComparatorJson(f.skew_comparator);
    if (!f.drift_comparator.empty()) j["drift_comparator"] = ComparatorJson(f.drift_comparator);
    features.push_back(std::move(j));
  }
  ojson out = {{"format", kSchemaFormat}};
  if (schema.min_examples) out["min_examples"] = *schema.min_examples;
  if (schema.max_examples) out["max_examples"] = *schema.max_examples;
  out["features"] = std::move(features);
  return out;
}

json SchemaToJson(const Schema& schema) {
  return json::parse(
      SchemaToOrderedJson(schema).dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string SchemaToYaml(const Schema& schema) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitJson(out, SchemaToOrderedJson(schema));
  std::string text =
      "# Cairn data schema (docs/data-validation.md). Edit freely: add min/max,\n"
      "# presence, domains, unique bounds and skew/drift comparator thresholds.\n";
  text += out.c_str();
  text += "\n";
  return text;
}

Result<Schema> ParseSchema(std::string_view text, std::string_view source) {
  return SchemaReader(source).Read(text);
}

Result<std::string> SchemaFileKind(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".json") return std::string("json");
  if (ext == ".yml" || ext == ".yaml") return std::string("yaml");
  return InvalidParameter(path + ": a schema file must end in .yml, .yaml or .json");
}

Result<Schema> LoadSchemaFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot read the schema file (no such file?)");
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseSchema(buf.str(), path);
}

Status SaveSchemaFile(const Schema& schema, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string kind, SchemaFileKind(path));
  std::string text =
      kind == "json"
          ? SchemaToJson(schema).dump(2, ' ', false, json::error_handler_t::replace) + "\n"
          : SchemaToYaml(schema);
  return AtomicWriteFile(path, text);
}

}  // namespace cairn::data
