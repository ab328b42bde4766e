// serving/xgb_runtime.h: the native runtime — an MLflow model directory with
// the xgboost flavor (or a bare model.json|model.ubj|model.xgb) scored
// in-process by libxgboost through ml::XgbBooster.
#pragma once

#include <memory>

#include "serving/runtime.h"

namespace cairn::serving {

// Loads config.model_dir. Feature order: the signature's columns
// (config.signature_inputs_json, else MLmodel's), else the booster's feature
// names. Models saved from XGBClassifier answer class labels (as MLflow's
// pyfunc does); Booster models answer the raw prediction (probabilities for
// binary:logistic).
Result<std::unique_ptr<Runtime>> LoadXgbRuntime(const DeploymentConfig& config, const LogSink& log);

}  // namespace cairn::serving
