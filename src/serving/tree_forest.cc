// serving/tree_forest.cc: XGBoost JSON -> flat node arrays, and the walk
// (see tree_forest.h). Semantics follow libxgboost 1.7's CPU predictor: a
// missing value takes the default branch, otherwise `value < threshold` goes
// left; the margin starts at the base margin and adds each tree's leaf in
// float, in tree order; logistic objectives apply 1 / (1 + exp(-margin)).
#include "serving/tree_forest.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

constexpr uint32_t kDefaultLeft = 0x80000000u;

Result<float> NumberField(const Json& obj, const char* key) {
  const Json& v = obj.value(key, Json());
  if (v.is_number()) return v.get<float>();
  if (v.is_string()) {
    try {
      return std::stof(v.get<std::string>());
    } catch (...) {
    }
  }
  return InvalidParameter(std::string("model JSON: no numeric ") + key);
}

// XGBoost writes non-finite floats as bare NaN / Infinity / -Infinity (e.g.
// the split_conditions of categorical nodes), which strict JSON parsers
// refuse; outside strings they become null here so such a model is read and
// then declined for its real reason rather than as "not a model".
std::string NonFiniteToNull(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    size_t skip = 0;
    if (text.compare(i, 3, "NaN") == 0) skip = 3;
    if (text.compare(i, 8, "Infinity") == 0) skip = 8;
    if (text.compare(i, 9, "-Infinity") == 0) skip = 9;
    if (skip) {
      out += "null";
      i += skip - 1;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<TreeForest>> TreeForest::FromXgboostJson(std::string_view model_json) {
  // A tree's fields of an unexpected JSON type throw from nlohmann's get<>:
  // refused as a malformed model (libxgboost then scores it), never a crash.
  try {
    return FromParsedJson(model_json);
  } catch (const Json::exception& e) {
    return InvalidParameter(std::string("model JSON is malformed: ") + e.what());
  }
}

Result<std::unique_ptr<TreeForest>> TreeForest::FromParsedJson(std::string_view model_json) {
  Json doc = Json::parse(model_json, nullptr, false);
  if (doc.is_discarded()) doc = Json::parse(NonFiniteToNull(model_json), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("learner")) {
    return InvalidParameter("not an XGBoost JSON model");
  }
  const Json& learner = doc["learner"];
  const Json& booster = learner.value("gradient_booster", Json());
  if (booster.value("name", "") != "gbtree") {
    return InvalidParameter("booster '" + booster.value("name", "") + "' is not gbtree");
  }
  const Json& param = learner.value("learner_model_param", Json());
  CAIRN_ASSIGN_OR_RETURN(float base_score, NumberField(param, "base_score"));
  CAIRN_ASSIGN_OR_RETURN(float num_class, NumberField(param, "num_class"));
  CAIRN_ASSIGN_OR_RETURN(float num_feature, NumberField(param, "num_feature"));
  if (num_class > 1) return InvalidParameter("multiclass models use libxgboost");
  if (param.contains("num_target")) {
    CAIRN_ASSIGN_OR_RETURN(float targets, NumberField(param, "num_target"));
    if (targets > 1) return InvalidParameter("multi-target models use libxgboost");
  }
  std::string objective = learner.value("objective", Json()).value("name", "");
  auto forest = std::unique_ptr<TreeForest>(new TreeForest());
  forest->num_features_ = static_cast<size_t>(num_feature);
  if (objective == "binary:logistic" || objective == "reg:logistic") {
    if (!(base_score > 0 && base_score < 1)) return InvalidParameter("base_score out of (0, 1)");
    forest->base_margin_ = -std::log(1.0f / base_score - 1.0f);
    forest->sigmoid_ = true;
  } else if (objective == "binary:logitraw") {
    forest->base_margin_ = -std::log(1.0f / base_score - 1.0f);
  } else if (objective == "reg:squarederror" || objective == "reg:linear") {
    forest->base_margin_ = base_score;
  } else {
    return InvalidParameter("objective '" + objective + "' uses libxgboost");
  }
  const Json& model = booster.value("model", Json());
  const Json& trees = model.value("trees", Json());
  if (!trees.is_array()) return InvalidParameter("model JSON has no trees");
  for (const Json& t : trees) {
    const auto& left = t.value("left_children", Json());
    const auto& right = t.value("right_children", Json());
    const auto& feat = t.value("split_indices", Json());
    const auto& cond = t.value("split_conditions", Json());
    const auto& dleft = t.value("default_left", Json());
    const auto& stype = t.value("split_type", Json());
    size_t n = left.is_array() ? left.size() : 0;
    if (n == 0 || right.size() != n || feat.size() != n || cond.size() != n || dleft.size() != n) {
      return InvalidParameter("a tree's node arrays are malformed");
    }
    if (stype.is_array()) {
      for (const auto& s : stype) {
        if (s.get<int>() != 0) return InvalidParameter("categorical splits use libxgboost");
      }
    }
    // Breadth-first copy so that each node's children sit side by side.
    const int32_t base = static_cast<int32_t>(forest->nodes_.size());
    forest->roots_.push_back(base);
    forest->nodes_.push_back({});
    std::vector<std::pair<int32_t, int32_t>> queue = {{0, base}};  // (source, destination)
    for (size_t q = 0; q < queue.size(); ++q) {
      auto [src, dst] = queue[q];
      if (src < 0 || static_cast<size_t>(src) >= n || queue.size() > n) {
        return InvalidParameter("a tree's child index is out of range");
      }
      Node node;
      node.value = cond[static_cast<size_t>(src)].get<float>();
      int32_t l = left[static_cast<size_t>(src)].get<int32_t>();
      if (l < 0) {
        node.left = -1;
        node.feature = 0;
      } else {
        uint32_t f = feat[static_cast<size_t>(src)].get<uint32_t>();
        if (f >= forest->num_features_) return InvalidParameter("a split uses an unknown feature");
        node.feature = f | (dleft[static_cast<size_t>(src)].get<int>() ? kDefaultLeft : 0);
        node.left = static_cast<int32_t>(forest->nodes_.size());
        forest->nodes_.push_back({});
        forest->nodes_.push_back({});
        queue.push_back({l, node.left});
        queue.push_back({right[static_cast<size_t>(src)].get<int32_t>(), node.left + 1});
      }
      forest->nodes_[static_cast<size_t>(dst)] = node;
    }
  }
  return forest;
}

void TreeForest::Predict(const float* rows, size_t n, float* out) const {
  const Node* nodes = nodes_.data();
  for (size_t r = 0; r < n; ++r) {
    const float* x = rows + r * num_features_;
    float margin = base_margin_;
    for (int32_t root : roots_) {
      const Node* node = nodes + root;
      while (node->left >= 0) {
        float v = x[node->feature & ~kDefaultLeft];
        bool go_left = std::isnan(v) ? (node->feature & kDefaultLeft) != 0 : v < node->value;
        node = nodes + node->left + (go_left ? 0 : 1);
      }
      margin += node->value;
    }
    out[r] = sigmoid_ ? 1.0f / (1.0f + std::exp(-margin)) : margin;
  }
}

}  // namespace cairn::serving
