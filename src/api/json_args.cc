#include "api/json_args.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace cairn::api {

const Json* Args::Raw(const char* key) const {
  if (!obj_->is_object()) return nullptr;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

void Args::Invalid(const char* key, const Json& v, const char* expected) {
  // Show scalars; name containers by type (dumping one could be huge).
  std::string shown = v.is_structured() ? std::string("a JSON ") + v.type_name() : v.dump();
  if (shown.size() > 100) shown = shown.substr(0, 100) + "...";
  Fail(InvalidParameter("Invalid value " + shown + " for parameter '" + key +
                        "' supplied: " + expected));
}

namespace {
// Proto-JSON accepts ids as strings or integers; both read as text.
std::optional<std::string> AsText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return std::nullopt;
}
}  // namespace

std::optional<std::string> Args::OptString(const char* key) {
  const Json* v = Raw(key);
  if (!v) return std::nullopt;
  if (auto text = AsText(*v)) return text;
  Invalid(key, *v, "expected a string");
  return std::nullopt;
}

std::string Args::String(const char* key) {
  auto v = OptString(key);
  if (!v && ok()) {
    Fail(InvalidParameter(std::string("Missing value for required parameter '") + key + "'."));
  }
  return v.value_or("");
}

std::optional<int64_t> Args::OptInt(const char* key) {
  const Json* v = Raw(key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    Invalid(key, *v, "expected a 64-bit signed integer");
    return std::nullopt;
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == std::floor(d) && std::abs(d) < 9.2e18) return static_cast<int64_t>(d);
  }
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) return n;
  }
  Invalid(key, *v, "expected an integer");
  return std::nullopt;
}

std::optional<double> Args::OptDouble(const char* key) {
  const Json* v = Raw(key);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return d;
  }
  Invalid(key, *v, "expected a number");
  return std::nullopt;
}

double Args::Double(const char* key) {
  auto v = OptDouble(key);
  if (!v && ok()) {
    Fail(InvalidParameter(std::string("Missing value for required parameter '") + key + "'."));
  }
  return v.value_or(0);
}

std::vector<std::string> Args::Strings(const char* key) {
  std::vector<std::string> out;
  const Json* v = Raw(key);
  if (!v) return out;
  if (v->is_array()) {
    for (const auto& e : *v) {
      auto text = AsText(e);
      if (!text) {
        Invalid(key, *v, "expected a list of strings");
        return {};
      }
      out.push_back(std::move(*text));
    }
    return out;
  }
  if (auto s = OptString(key)) out.push_back(*s);
  return out;
}

Json JsonDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

}  // namespace cairn::api
