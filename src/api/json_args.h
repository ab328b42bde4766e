// Reading request arguments the way MLflow's server does: a JSON body for
// POST/PATCH/DELETE, the query string for GET, with proto-JSON's leniencies
// (int64 as string, doubles as "NaN"/"Infinity"). Collects the first error as an
// INVALID_PARAMETER_VALUE naming the field. Included by api/*.cc only.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::api {

using Json = nlohmann::json;

class Args {
 public:
  // Owns a parsed request body.
  explicit Args(Json obj)
      : owned_(std::make_shared<const Json>(std::move(obj))), obj_(owned_.get()) {}
  // Reads a nested object of a body that outlives it, without copying it
  // (log-batch reads 1,000 metric objects this way).
  static Args Of(const Json& nested) { return Args(&nested); }

  std::optional<std::string> OptString(const char* key);
  std::string String(const char* key);  // required
  std::optional<int64_t> OptInt(const char* key);
  std::optional<double> OptDouble(const char* key);
  double Double(const char* key);                     // required
  std::vector<std::string> Strings(const char* key);  // a list, or one value given once
  const Json* Raw(const char* key) const;

  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  explicit Args(const Json* view) : obj_(view) {}
  void Invalid(const char* key, const Json& v, const char* expected);
  std::shared_ptr<const Json> owned_;  // on the heap, so moving Args keeps obj_ valid
  const Json* obj_;
  Status status_;
};

// JSON number for a double, with non-finite values as proto-JSON strings.
Json JsonDouble(double v);

}  // namespace cairn::api
