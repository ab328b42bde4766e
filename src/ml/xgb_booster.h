// XgbBooster: RAII owner of one XGBoost (libxgboost 1.7 C API) booster handle,
// loaded from a saved model (JSON, UBJSON or the legacy binary format) and used
// for in-place prediction on dense row-major float matrices.
//
// Thread-safety: a loaded booster is configured once at load (nthread fixed,
// a warm-up prediction runs XGBoost's lazy Configure()), after which Predict
// and the read-only accessors may be called from any number of threads at the
// same time. XGBoost 1.7 keeps prediction buffers per (thread, learner) and
// guards its lazy configuration with a lock, so XGBoosterPredictFromDense is
// re-entrant; we copy results out before returning. Each thread reuses its
// own proxy DMatrix (see xgb_booster.cc) to keep single-row calls cheap. Parameter setters are NOT
// thread-safe in XGBoost, so this class exposes none after construction.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn::ml {

struct XgbLoadOptions {
  // Threads XGBoost may use inside one Predict call. 1 keeps single-row
  // (serving) predictions free of OpenMP thread-pool wake-ups; callers that
  // score large batches in one call may raise it, or (better) run several
  // Predict calls in parallel on their own threads.
  int nthread = 1;
};

class XgbBooster {
 public:
  static Result<std::unique_ptr<XgbBooster>> LoadFile(const std::string& path,
                                                      const XgbLoadOptions& options = {});
  static Result<std::unique_ptr<XgbBooster>> LoadBuffer(std::string_view bytes,
                                                        const XgbLoadOptions& options = {});
  // Takes ownership of a BoosterHandle built elsewhere (training code); the
  // handle is configured the same way as a loaded one.
  static Result<std::unique_ptr<XgbBooster>> Adopt(void* booster_handle,
                                                   const XgbLoadOptions& options = {});

  XgbBooster(const XgbBooster&) = delete;
  XgbBooster& operator=(const XgbBooster&) = delete;
  ~XgbBooster();

  // rows x cols row-major floats, NaN = missing. Thread-safe.
  // out receives rows x out_cols values (binary: 1 probability; multiclass:
  // K probabilities; regression: 1 value). cols must equal num_features().
  Status Predict(const float* data, size_t rows, size_t cols, std::vector<float>& out,
                 size_t& out_cols) const;

  size_t num_features() const { return num_features_; }
  std::vector<std::string> feature_names() const { return feature_names_; }  // may be empty
  std::string objective() const { return objective_; }  // e.g. "binary:logistic"
  // num_class from the saved config (0 when the objective is not multiclass).
  int num_class() const { return num_class_; }
  // Number of boosting rounds in the model.
  int boosted_rounds() const { return boosted_rounds_; }

  Result<std::string> SaveJson() const;     // model bytes in XGBoost's JSON format
  void* handle() const { return handle_; }  // BoosterHandle, for training code

 private:
  explicit XgbBooster(void* handle) : handle_(handle) {}
  Status Initialize(const XgbLoadOptions& options);

  void* handle_ = nullptr;
  size_t num_features_ = 0;
  std::vector<std::string> feature_names_;
  std::string objective_;
  int num_class_ = 0;
  int boosted_rounds_ = 0;
};

// The message of XGBoost's last error on this thread, prefixed with `what`.
Status XgbError(std::string_view what);

// libxgboost's version, "major.minor.patch".
std::string XgbVersion();

}  // namespace cairn::ml
