// serving/xgb_runtime.cc: the native XGBoost runtime (see xgb_runtime.h).
#include "serving/xgb_runtime.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "artifacts/path_safety.h"
#include "core/fs.h"
#include "ml/model_dir.h"
#include "ml/xgb_booster.h"
#include "registry/mlmodel.h"
#include "serving/tree_forest.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

class XgbRuntime final : public Runtime {
 public:
  XgbRuntime(std::unique_ptr<ml::XgbBooster> booster, std::unique_ptr<TreeForest> forest,
             std::vector<ColumnSpec> columns, bool class_labels)
      : booster_(std::move(booster)),
        forest_(std::move(forest)),
        columns_(std::move(columns)),
        class_labels_(class_labels) {}

  bool wants_raw() const override { return false; }
  const std::vector<ColumnSpec>& columns() const override { return columns_; }
  std::string platform() const override { return "xgboost"; }

  Status Predict(const ScoreBatch& batch, SteadyClock::time_point deadline,
                 ScoreResult& out) override {
    // Scoring is microseconds; a request whose deadline passed while it
    // queued is not worth starting.
    if (SteadyClock::now() >= deadline) {
      out.timed_out = true;
      return Status(ErrorCode::kTemporarilyUnavailable, "request timed out before scoring");
    }
    size_t cols = columns_.size();
    if (batch.features.size() != batch.rows * cols) {
      return InvalidParameter("expected " + std::to_string(cols) + " features per row");
    }
    size_t out_cols = 0;
    if (forest_) {
      out.values.resize(batch.rows);
      forest_->Predict(batch.features.data(), batch.rows, out.values.data());
      out_cols = 1;
    } else {
      CAIRN_RETURN_IF_ERROR(
          booster_->Predict(batch.features.data(), batch.rows, cols, out.values, out_cols));
    }
    out.rows = batch.rows;
    out.cols = out_cols;
    if (class_labels_) ToLabels(out);
    return Status::Ok();
  }

 private:
  // XGBClassifier.predict: the most likely class (binary: p > 0.5).
  static void ToLabels(ScoreResult& out) {
    std::vector<float> labels(out.rows);
    for (size_t r = 0; r < out.rows; ++r) {
      const float* p = out.values.data() + r * out.cols;
      if (out.cols == 1) {
        labels[r] = p[0] > 0.5f ? 1.0f : 0.0f;
      } else {
        labels[r] = static_cast<float>(std::max_element(p, p + out.cols) - p);
      }
    }
    out.values = std::move(labels);
    out.cols = 1;
  }

  std::unique_ptr<ml::XgbBooster> booster_;
  std::unique_ptr<TreeForest> forest_;  // when it reproduces the booster (see tree_forest.h)
  std::vector<ColumnSpec> columns_;
  bool class_labels_;
};

// The compiled forest, when it covers the model and agrees with libxgboost
// on probe rows (values at the model's own thresholds, random values, missing
// values); otherwise null and why.
std::unique_ptr<TreeForest> CompileForest(const ml::XgbBooster& booster, std::string& why) {
  auto json = booster.SaveJson();
  if (!json.ok()) {
    why = json.status().message();
    return nullptr;
  }
  auto forest = TreeForest::FromXgboostJson(*json);
  if (!forest.ok()) {
    why = forest.status().message();
    return nullptr;
  }
  const size_t cols = booster.num_features();
  if ((*forest)->num_features() != cols || cols == 0) {
    why = "feature count differs";
    return nullptr;
  }
  std::vector<float> thresholds;
  {
    // Probe values only: a model JSON strict parsing refuses (bare NaN) or of
    // an odd shape just probes with random values.
    nlohmann::json doc = nlohmann::json::parse(*json, nullptr, false);
    const auto trees =
        doc.is_object()
            ? doc.value("/learner/gradient_booster/model/trees"_json_pointer, nlohmann::json())
            : nlohmann::json();
    for (const auto& t : trees.is_array() ? trees : nlohmann::json::array()) {
      const auto& conds =
          t.is_object() ? t.value("split_conditions", nlohmann::json()) : nlohmann::json();
      for (const auto& c : conds.is_array() ? conds : nlohmann::json::array()) {
        if (c.is_number()) thresholds.push_back(c.get<float>());
      }
    }
  }
  const size_t rows = 512;
  std::vector<float> probe(rows * cols);
  uint64_t s = 0x2545F4914F6CDD1Dull;
  for (float& v : probe) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    uint64_t pick = s % 10;
    if (pick == 0) {
      v = std::nanf("");
    } else if (pick < 5 && !thresholds.empty()) {
      v = thresholds[(s >> 8) % thresholds.size()];
    } else {
      v = static_cast<float>(static_cast<int64_t>((s >> 16) % 20001) - 10000) / 1000.0f;
    }
  }
  std::vector<float> want, got(rows);
  size_t out_cols = 0;
  if (!booster.Predict(probe.data(), rows, cols, want, out_cols).ok() || out_cols != 1) {
    why = "libxgboost answers more than one value per row";
    return nullptr;
  }
  (*forest)->Predict(probe.data(), rows, got.data());
  for (size_t i = 0; i < rows; ++i) {
    if (!(std::fabs(got[i] - want[i]) <= 1e-6f + 1e-5f * std::fabs(want[i]))) {
      why = "compiled trees disagree with libxgboost on probe row " + std::to_string(i);
      return nullptr;
    }
  }
  return std::move(forest).value();
}

}  // namespace

Result<std::unique_ptr<Runtime>> LoadXgbRuntime(const DeploymentConfig& config,
                                                const LogSink& log) {
  fs::path dir = config.model_dir;
  std::error_code ec;
  if (config.model_dir.empty() || !fs::is_directory(dir, ec)) {
    return NotFound("model directory '" + config.model_dir + "' does not exist");
  }
  std::unique_ptr<ml::XgbBooster> booster;
  std::string model_class;
  std::string signature = config.signature_inputs_json;
  // The feature encoding of a Cairn-trained directory (cairn_schema.json) or
  // of the signature's `categories`; null for a bare model file.
  std::optional<ml::ModelSchema> schema;
  if (fs::exists(dir / "MLmodel", ec)) {
    CAIRN_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "MLmodel"));
    CAIRN_ASSIGN_OR_RETURN(MLmodelInfo info, ParseMLmodel(text, "MLmodel"));
    const auto& flavor = info.flavors.value("xgboost", nlohmann::json());
    if (!flavor.is_object() || !flavor.contains("data") || !flavor["data"].is_string()) {
      std::string names;
      for (const auto& [name, _] : info.flavors.items())
        names += (names.empty() ? "" : ", ") + name;
      return InvalidParameter(
          "MLmodel has no xgboost flavor with a `data` file (flavors: " + names +
          "); serve other models with a scoring script (code_configuration)");
    }
    CAIRN_RETURN_IF_ERROR(NormalizeRelativePath(flavor["data"].get<std::string>()).status());
    model_class = flavor.value("model_class", "");
    log("loading XGBoost model directory " + dir.string());
    // One loader for batch scoring and serving (ml/model_dir.h): the same
    // booster and the same categorical codes as `cairn component train` wrote.
    CAIRN_ASSIGN_OR_RETURN(ml::LoadedModel model, ml::LoadModelDir(dir));
    booster = std::move(model.booster);
    schema = std::move(model.schema);
    if (signature.empty() && info.signature_inputs.is_array()) {
      signature = info.signature_inputs.dump();
    }
  } else {
    std::string data_file;
    for (const char* name : {"model.json", "model.ubj", "model.xgb"}) {
      if (fs::exists(dir / name, ec)) {
        data_file = name;
        break;
      }
    }
    if (data_file.empty()) {
      return NotFound("model directory '" + config.model_dir +
                      "' has neither an MLmodel file nor model.json|model.ubj|model.xgb");
    }
    log("loading XGBoost model " + (dir / data_file).string());
    CAIRN_ASSIGN_OR_RETURN(booster, ml::XgbBooster::LoadFile((dir / data_file).string()));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<ColumnSpec> columns, ParseSignatureColumns(signature));
  const size_t n = booster->num_features();
  std::vector<std::string> names = booster->feature_names();
  if (columns.empty()) {
    columns.resize(n);
    for (auto& c : columns) {
      c.type = ColumnType::kFloat;
      c.type_name = "float";
    }
  }
  if (n != 0 && columns.size() != n) {
    return InvalidParameter("the signature has " + std::to_string(columns.size()) +
                            " input columns but the model expects " + std::to_string(n) +
                            " features");
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    ColumnSpec& c = columns[i];
    // The schema's feature of this column: by name, else by position.
    const ml::FeatureSpec* feature = nullptr;
    if (schema) {
      for (const auto& f : schema->features) {
        if (!c.name.empty() && f.name == c.name) feature = &f;
      }
      if (!feature && c.name.empty() && i < schema->features.size()) {
        feature = &schema->features[i];
      }
    }
    if (c.name.empty()) {
      c.name = feature ? feature->name : i < names.size() ? names[i] : "f" + std::to_string(i);
    }
    if (c.type == ColumnType::kUnsupported) {
      return InvalidParameter("column '" + c.name + "' has type " + c.type_name +
                              ", which the XGBoost runtime cannot score");
    }
    if (c.type == ColumnType::kString && c.categories.empty() && feature &&
        feature->kind == ml::FeatureSpec::Kind::kCategorical) {
      c.categories = feature->categories;
    }
    if (c.type == ColumnType::kString && c.categories.empty()) {
      return InvalidParameter("column '" + c.name +
                              "' is a string without `categories` in the signature or "
                              "cairn_schema.json; the XGBoost runtime scores numbers (or a "
                              "category's index)");
    }
  }
  bool labels = model_class.find("XGBClassifier") != std::string::npos;
  std::string why;
  std::unique_ptr<TreeForest> forest = CompileForest(*booster, why);
  log("model ready: " + std::to_string(columns.size()) + " features, objective " +
      booster->objective() + (labels ? ", answering class labels" : "") +
      (forest ? ", scored by compiled trees (" + std::to_string(forest->num_trees()) + " trees)"
              : ", scored by libxgboost (" + why + ")"));
  return std::unique_ptr<Runtime>(std::make_unique<XgbRuntime>(
      std::move(booster), std::move(forest), std::move(columns), labels));
}

}  // namespace cairn::serving
