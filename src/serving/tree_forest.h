// serving/tree_forest.h: a compiled form of an XGBoost gradient-boosted tree
// ensemble for single-row serving. libxgboost 1.7's in-place prediction spends
// tens of microseconds per call on setup (parsing the array interface and the
// config, a proxy DMatrix) for what is ~1 µs of tree walking at 100 trees of
// depth 6; this walks flat node arrays directly. Built from the model's JSON
// (XgbBooster::SaveJson) for the cases it reproduces exactly — gbtree,
// numerical splits, one output (binary:logistic, reg:logistic,
// binary:logitraw, reg:squarederror); anything else is refused and the
// runtime keeps libxgboost. Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn::serving {

class TreeForest {
 public:
  // INVALID_PARAMETER_VALUE (with the reason) for models it does not cover.
  static Result<std::unique_ptr<TreeForest>> FromXgboostJson(std::string_view model_json);

  // rows x num_features() floats (NaN = missing) -> rows outputs.
  void Predict(const float* rows, size_t n, float* out) const;
  size_t num_features() const { return num_features_; }
  size_t num_trees() const { return roots_.size(); }

 private:
  // FromXgboostJson without its guard against nlohmann type errors.
  static Result<std::unique_ptr<TreeForest>> FromParsedJson(std::string_view model_json);
  struct Node {
    int32_t left;      // -1 for a leaf; right child = left + 1 (children are stored adjacently)
    uint32_t feature;  // high bit: missing values go left
    float value;       // split threshold, or the leaf value
  };
  std::vector<Node> nodes_;
  std::vector<int32_t> roots_;
  size_t num_features_ = 0;
  float base_margin_ = 0;
  bool sigmoid_ = false;
};

}  // namespace cairn::serving
