// Cairn's XGBoost model directory: the feature schema that turns table cells
// into the booster's float inputs (numeric columns as numbers, categorical
// columns as XGBoost categorical codes), the class labels, and the MLflow
// layout on disk (MLmodel with the xgboost + python_function flavors,
// model.json, requirements.txt, cairn_schema.json). Loads Cairn's directories
// and MLflow's xgboost flavor directories alike. Loaded models are read-only
// and safe to share between threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"
#include "ml/xgb_booster.h"
#include "registry/mlmodel.h"

namespace cairn::ml {

struct FeatureSpec {
  enum class Kind { kNumeric, kCategorical };
  std::string name;
  Kind kind = Kind::kNumeric;
  // Categorical: category text -> code (its index here). Unseen text at
  // prediction time is missing (NaN), which XGBoost routes down its default branch.
  std::vector<std::string> categories;
};

struct ModelSchema {
  std::vector<FeatureSpec> features;
  std::string label;
  std::string objective;  // binary:logistic, multi:softprob, reg:squarederror
  // Class labels in output order (binary: {negative, positive}); empty for regression.
  std::vector<std::string> classes;

  bool is_classifier() const { return !classes.empty(); }
  // One cell of feature `index` as the booster's float: NaN for null cells and
  // unseen categories; a numeric feature whose text is not a number is
  // INVALID_PARAMETER_VALUE naming the column.
  Result<float> Encode(size_t index, std::string_view text, bool is_null) const;
  // Names of the columns a prediction adds: binary "prediction", "probability";
  // multiclass "prediction", "probability_<class>"...; regression "prediction".
  std::vector<std::string> OutputColumns() const;
  // The text cells of one row's prediction (booster output `scores`, out_cols wide).
  std::vector<std::string> FormatOutput(const float* scores, size_t out_cols) const;
  // Index of a label's class, -1 when unknown.
  int ClassIndex(std::string_view label) const;

  std::string ToJson() const;
  static Result<ModelSchema> FromJson(std::string_view text);
};

struct LoadedModel {
  std::unique_ptr<XgbBooster> booster;
  ModelSchema schema;
  MLmodelInfo mlmodel;
  std::filesystem::path dir;
};

inline constexpr const char* kModelFile = "model.json";
inline constexpr const char* kSchemaFile = "cairn_schema.json";

// Writes the directory (created when missing; files replaced atomically).
// `run_id` may be empty.
Status SaveModelDir(const std::filesystem::path& dir, const XgbBooster& booster,
                    const ModelSchema& schema, const std::string& run_id);

// Loads a directory holding an MLmodel with an xgboost flavor (Cairn's or
// MLflow's: data may be model.json, model.ubj or model.xgb). Without
// cairn_schema.json the features come from the signature's columns (numeric,
// or string with Cairn's `categories` list) or the booster's feature names,
// and classes are 0..K-1. The online serving runtime loads through here too.
Result<LoadedModel> LoadModelDir(const std::filesystem::path& dir,
                                 const XgbLoadOptions& options = {});

// For each schema feature, its column index in `columns`; a feature the table
// lacks is INVALID_PARAMETER_VALUE naming it.
Result<std::vector<size_t>> BindFeatures(const ModelSchema& schema,
                                         const std::vector<std::string>& columns);
// Encodes every row of `chunk` into `x` (num_rows x features, row-major).
// A row with a bad cell gets its message in (*errors)[row] (empty otherwise)
// and NaN features. Columns past chunk.num_columns are null.
void EncodeChunk(const ModelSchema& schema, const std::vector<size_t>& binding,
                 const data::RowChunk& chunk, std::vector<float>* x,
                 std::vector<std::string>* errors);

// Shared text helpers: full-string number parsing and "%.9g"-style formatting.
bool ParseNumber(std::string_view text, double* out);
std::string FormatNumber(double value);

}  // namespace cairn::ml
