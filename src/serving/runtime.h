// serving/runtime.h: the one interface every model runtime implements, and
// what a request looks like once it reached one. Two runtimes exist:
//  - native in-process XGBoost (xgb_runtime.cc): an MLflow model directory
//    with the xgboost flavor, scored with libxgboost in microseconds;
//  - a worker-process pool for an Azure-ML-style scoring script in any
//    language (worker_runtime.cc, protocol in docs/serving.md).
// A runtime is created and loaded off the hot path (LoadRuntime blocks until
// the model is ready) and then scores from any number of threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/serving_config.h"

namespace cairn::serving {

using SteadyClock = std::chrono::steady_clock;

// MLflow column types (signature "type").
enum class ColumnType { kDouble, kFloat, kLong, kInteger, kBoolean, kString, kUnsupported };
const char* ColumnTypeName(ColumnType type);

// One input column of the model, from its MLflow signature (in order).
struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kDouble;
  std::string type_name;  // as written in the signature
  // MLflow's `required` (absent: true). An optional column may be missing or
  // null and is then scored as a missing value (NaN).
  bool required = true;
  // Cairn's extension for string columns scored by a numeric model: the known
  // categories, a value scored as its index here. A value outside is "unseen".
  std::vector<std::string> categories;
};

// Parses MLflow signature inputs: a JSON list of column specs, or one tensor
// spec of shape [-1, N] (MLflow's default for xgboost/numpy models), which
// yields N float columns with empty names (the runtime names them from the
// model's feature names, else "f0".."fN-1"). Empty text yields no columns.
Result<std::vector<ColumnSpec>> ParseSignatureColumns(const std::string& signature_inputs_json);

// A request as a runtime receives it.
struct ScoreBatch {
  // Native runtimes: rows x columns().size() floats, row-major, in the
  // signature's column order, NaN for a missing value.
  std::vector<float> features;
  size_t rows = 0;
  // Script runtimes: the request body exactly as the client sent it.
  std::string raw_body;
};

struct ScoreResult {
  // Native runtimes: rows x cols values.
  std::vector<float> values;
  size_t rows = 0;
  size_t cols = 0;
  // Script runtimes: the JSON text of run()'s return value.
  std::string json;
  // Set with an error status when the deadline passed first (answered 504).
  bool timed_out = false;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // True when requests are handed over as raw bodies (scoring scripts) rather
  // than as feature rows checked against columns().
  virtual bool wants_raw() const = 0;
  // The model's input columns in feature order (empty for raw runtimes
  // without a signature).
  virtual const std::vector<ColumnSpec>& columns() const = 0;
  // "xgboost" or "script" (the V2 metadata's platform).
  virtual std::string platform() const = 0;
  // Scores one batch. Errors: INVALID_PARAMETER_VALUE for input the model
  // refused (400), TEMPORARILY_UNAVAILABLE when no worker could take it
  // (503), INTERNAL_ERROR for a failing model or crashed worker (500);
  // `out.timed_out` marks a deadline that passed (504). Thread-safe.
  virtual Status Predict(const ScoreBatch& batch, SteadyClock::time_point deadline,
                         ScoreResult& out) = 0;
};

// Where a deployment's log lines go (model load, worker stderr).
using LogSink = std::function<void(const std::string& line)>;

// Creates and loads the runtime a deployment asks for: the worker pool when
// `scoring_script` is set, the native XGBoost runtime otherwise. Blocks until
// the model is loaded (or failed to). Errors name what is wrong with the
// model directory or script.
Result<std::unique_ptr<Runtime>> LoadRuntime(const DeploymentConfig& config, const LogSink& log);

// The same for tests and embedders: a factory the router calls instead.
using RuntimeFactory = std::function<Result<std::unique_ptr<Runtime>>(
    const DeploymentConfig& config, const LogSink& log)>;

}  // namespace cairn::serving
