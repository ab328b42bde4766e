// serving/xgb_runtime.cc: the native XGBoost runtime (see xgb_runtime.h).
#include "serving/xgb_runtime.h"

#include <algorithm>
#include <filesystem>

#include "artifacts/path_safety.h"
#include "core/fs.h"
#include "ml/xgb_booster.h"
#include "registry/mlmodel.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

class XgbRuntime final : public Runtime {
 public:
  XgbRuntime(std::unique_ptr<ml::XgbBooster> booster, std::vector<ColumnSpec> columns,
             bool class_labels)
      : booster_(std::move(booster)), columns_(std::move(columns)), class_labels_(class_labels) {}

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
    CAIRN_RETURN_IF_ERROR(
        booster_->Predict(batch.features.data(), batch.rows, cols, out.values, out_cols));
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
  std::vector<ColumnSpec> columns_;
  bool class_labels_;
};

}  // namespace

Result<std::unique_ptr<Runtime>> LoadXgbRuntime(const DeploymentConfig& config,
                                                const LogSink& log) {
  fs::path dir = config.model_dir;
  std::error_code ec;
  if (config.model_dir.empty() || !fs::is_directory(dir, ec)) {
    return NotFound("model directory '" + config.model_dir + "' does not exist");
  }
  std::string data_file;
  std::string model_class;
  std::string signature = config.signature_inputs_json;
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
    CAIRN_ASSIGN_OR_RETURN(data_file, NormalizeRelativePath(flavor["data"].get<std::string>()));
    model_class = flavor.value("model_class", "");
    if (signature.empty() && info.signature_inputs.is_array()) {
      signature = info.signature_inputs.dump();
    }
  } else {
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
  }
  log("loading XGBoost model " + (dir / data_file).string());
  CAIRN_ASSIGN_OR_RETURN(auto booster, ml::XgbBooster::LoadFile((dir / data_file).string()));
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
    if (c.name.empty()) c.name = i < names.size() ? names[i] : "f" + std::to_string(i);
    if (c.type == ColumnType::kUnsupported) {
      return InvalidParameter("column '" + c.name + "' has type " + c.type_name +
                              ", which the XGBoost runtime cannot score");
    }
    if (c.type == ColumnType::kString && c.categories.empty()) {
      return InvalidParameter("column '" + c.name +
                              "' is a string without `categories` in the signature; the "
                              "XGBoost runtime scores numbers (or a category's index)");
    }
  }
  bool labels = model_class.find("XGBClassifier") != std::string::npos;
  log("model ready: " + std::to_string(columns.size()) + " features, objective " +
      booster->objective() + (labels ? ", answering class labels" : ""));
  return std::unique_ptr<Runtime>(
      std::make_unique<XgbRuntime>(std::move(booster), std::move(columns), labels));
}

}  // namespace cairn::serving
