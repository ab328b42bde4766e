// serving/synthetic_model.h: trains a small XGBoost binary classifier on
// deterministic synthetic data and saves it as an MLflow model directory
// (MLmodel with the xgboost flavor + model.json, a column signature f0..fN-1
// of doubles). Used by the serving tests and bench/serving_bench so they
// score a real model without a training pipeline.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::serving {

struct SyntheticModelOptions {
  int features = 10;
  int trees = 100;
  int max_depth = 6;
  int rows = 2000;
  unsigned seed = 7;
  std::string objective = "binary:logistic";  // or reg:squarederror, ...
};

// Writes `dir`/MLmodel and `dir`/model.json (creating `dir`).
Status WriteSyntheticXgbModel(const std::filesystem::path& dir,
                              const SyntheticModelOptions& options = {});

// Rows of the same synthetic distribution (row-major, `features` columns).
std::vector<float> SyntheticRows(int rows, int features, unsigned seed);

}  // namespace cairn::serving
