// Training an XGBoost model from a table file (CSV / JSON Lines / JSON array
// through data/table_reader.h): feature typing and encoding, label mapping,
// a seeded deterministic validation split, boosting with per-iteration
// metrics, and gain feature importance. Deterministic: the same file, options
// and params (including nthread) give byte-identical model JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"
#include "ml/model_dir.h"
#include "ml/xgb_booster.h"

namespace cairn::ml {

struct TrainOptions {
  std::filesystem::path data;
  data::ReaderOptions reader;
  std::string label;
  // Feature columns; empty = every column but the label.
  std::vector<std::string> features;
  // binary:logistic, multi:softprob or reg:squarederror; empty = inferred from
  // the label (2 distinct values: binary; other non-numeric: multiclass;
  // numeric: regression).
  std::string objective;
  // k=v params. Cairn's own: num_round (100), validation_fraction (0.2),
  // seed (0), nthread (1). Known XGBoost ones are range-checked (max_depth,
  // eta/learning_rate, subsample, colsample_bytree, colsample_bylevel,
  // min_child_weight, lambda, alpha, gamma, max_bin, ...: see kXgbParams in
  // train.cc); any other key is INVALID_PARAMETER_VALUE listing the allowed ones.
  std::map<std::string, std::string> params;
};

struct IterationMetrics {
  int iteration = 0;
  // "train-logloss", "validation-auc", ... in XGBoost's order.
  std::vector<std::pair<std::string, double>> values;
};

struct TrainResult {
  std::unique_ptr<XgbBooster> booster;
  ModelSchema schema;
  // Every param the booster was trained with (defaults filled in).
  std::map<std::string, std::string> params;
  std::vector<IterationMetrics> history;
  // Feature -> average gain per split ("gain"), highest first; features never
  // split on are absent (as in XGBoost).
  std::vector<std::pair<std::string, double>> importance;
  size_t train_rows = 0;
  size_t validation_rows = 0;
  size_t skipped_rows = 0;  // rows whose label was null
  double seconds = 0;       // boosting time (not reading)
};

// Deterministic split: row `index` goes to validation when a splitmix64 hash
// of (seed, index) falls below `fraction` of the 64-bit range.
bool InValidationSplit(uint64_t seed, uint64_t index, double fraction);

Result<TrainResult> Train(const TrainOptions& options);

}  // namespace cairn::ml
