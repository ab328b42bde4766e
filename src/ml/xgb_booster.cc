// XgbBooster: loading, configuring and predicting with an XGBoost booster
// through libxgboost's C API (see xgb_booster.h for the thread-safety story).
#include "ml/xgb_booster.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace cairn::ml {

Status XgbError(std::string_view what) {
  const char* last = XGBGetLastError();
  return Status(ErrorCode::kInvalidParameterValue,
                std::string(what) + ": " + (last != nullptr ? last : "unknown XGBoost error"));
}

std::string XgbVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

namespace {

// XGBoost's __array_interface__ JSON for a C-contiguous float32 matrix.
std::string DenseArrayInterface(const float* data, size_t rows, size_t cols) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "{\"data\":[%llu,true],\"shape\":[%zu,%zu],\"typestr\":\"<f4\",\"version\":3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows, cols);
  return buf;
}

// type 0 = normal prediction (objective transform applied: probabilities for
// logistic/softprob); strict_shape gives (rows, K) for every objective.
constexpr const char* kPredictConfig =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":true,\"cache_id\":0,\"missing\":NaN}";

// One proxy DMatrix per thread, reused by every Predict on that thread: left
// to XGBoost, each call builds a fresh proxy whose context re-reads the
// cgroup CPU quota files (file opens on every single-row prediction). A
// proxy only points at the caller's array for the duration of one call and
// is not tied to a booster, so per-thread reuse keeps Predict re-entrant.
struct ThreadProxy {
  DMatrixHandle handle = nullptr;
  ~ThreadProxy() {
    if (handle != nullptr) XGDMatrixFree(handle);
  }
};

DMatrixHandle ThreadLocalProxy() {
  thread_local ThreadProxy proxy;
  if (proxy.handle == nullptr && XGProxyDMatrixCreate(&proxy.handle) != 0) return nullptr;
  return proxy.handle;
}

}  // namespace

Result<std::unique_ptr<XgbBooster>> XgbBooster::LoadFile(const std::string& path,
                                                         const XgbLoadOptions& options) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    return Status(bytes.status().code(),
                  "cannot read XGBoost model " + path + ": " + bytes.status().message());
  }
  auto booster = LoadBuffer(*bytes, options);
  if (!booster.ok()) {
    return Status(booster.status().code(), path + ": " + booster.status().message());
  }
  return booster;
}

Result<std::unique_ptr<XgbBooster>> XgbBooster::LoadBuffer(std::string_view bytes,
                                                           const XgbLoadOptions& options) {
  // XGBoost reads 4 header bytes unchecked; reject what cannot be a model.
  if (bytes.size() < 8) {
    return InvalidParameter("not an XGBoost model: only " + std::to_string(bytes.size()) +
                            " bytes");
  }
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) return XgbError("XGBoosterCreate");
  std::unique_ptr<XgbBooster> booster(new XgbBooster(handle));
  if (XGBoosterLoadModelFromBuffer(handle, bytes.data(), bytes.size()) != 0) {
    return XgbError("cannot load XGBoost model (expected JSON, UBJSON or binary)");
  }
  CAIRN_RETURN_IF_ERROR(booster->Initialize(options));
  return booster;
}

Result<std::unique_ptr<XgbBooster>> XgbBooster::Adopt(void* booster_handle,
                                                      const XgbLoadOptions& options) {
  if (booster_handle == nullptr) return InvalidParameter("null BoosterHandle");
  std::unique_ptr<XgbBooster> booster(new XgbBooster(booster_handle));
  CAIRN_RETURN_IF_ERROR(booster->Initialize(options));
  return booster;
}

XgbBooster::~XgbBooster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Status XgbBooster::Initialize(const XgbLoadOptions& options) {
  if (options.nthread < 1) return InvalidParameter("nthread must be >= 1");
  if (XGBoosterSetParam(handle_, "nthread", std::to_string(options.nthread).c_str()) != 0) {
    return XgbError("XGBoosterSetParam(nthread)");
  }
  bst_ulong num_feature = 0;
  if (XGBoosterGetNumFeature(handle_, &num_feature) != 0) return XgbError("XGBoosterGetNumFeature");
  num_features_ = num_feature;
  int rounds = 0;
  if (XGBoosterBoostedRounds(handle_, &rounds) != 0) return XgbError("XGBoosterBoostedRounds");
  boosted_rounds_ = rounds;

  bst_ulong len = 0;
  const char** names = nullptr;
  if (XGBoosterGetStrFeatureInfo(handle_, "feature_name", &len, &names) != 0) {
    return XgbError("XGBoosterGetStrFeatureInfo");
  }
  feature_names_.assign(names, names + len);

  const char* config = nullptr;
  bst_ulong config_len = 0;
  if (XGBoosterSaveJsonConfig(handle_, &config_len, &config) != 0) {
    return XgbError("XGBoosterSaveJsonConfig");
  }
  auto parsed = nlohmann::json::parse(std::string_view(config, config_len), nullptr, false);
  if (parsed.is_discarded()) return InternalError("XGBoost returned an unparsable config");
  const auto& learner = parsed.value("learner", nlohmann::json::object());
  if (learner.contains("objective") && learner["objective"].contains("name")) {
    objective_ = learner["objective"]["name"].get<std::string>();
  }
  if (learner.contains("learner_model_param")) {
    const auto& p = learner["learner_model_param"];
    if (p.contains("num_class") && p["num_class"].is_string()) {
      num_class_ = std::atoi(p["num_class"].get<std::string>().c_str());
    }
  }

  // Warm-up: the first prediction runs XGBoost's lazy Configure() (under its
  // own lock); doing it here keeps that cost out of the first served request.
  if (num_features_ > 0) {
    std::vector<float> row(num_features_, std::nanf(""));
    std::vector<float> out;
    size_t out_cols = 0;
    CAIRN_RETURN_IF_ERROR(Predict(row.data(), 1, row.size(), out, out_cols));
  }
  return Status::Ok();
}

Status XgbBooster::Predict(const float* data, size_t rows, size_t cols, std::vector<float>& out,
                           size_t& out_cols) const {
  out.clear();
  out_cols = 0;
  if (cols != num_features_) {
    return InvalidParameter("model expects " + std::to_string(num_features_) + " features, got " +
                            std::to_string(cols));
  }
  if (rows == 0) return Status::Ok();
  if (data == nullptr) return InvalidParameter("null input matrix");
  const std::string values = DenseArrayInterface(data, rows, cols);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  DMatrixHandle proxy = ThreadLocalProxy();  // null: XGBoost makes a fresh one
  if (XGBoosterPredictFromDense(handle_, values.c_str(), kPredictConfig, proxy, &shape, &dim,
                                &result) != 0) {
    return XgbError("XGBoost prediction failed");
  }
  if (dim != 2 || shape[0] != rows) {
    return InternalError("unexpected XGBoost prediction shape (dim " + std::to_string(dim) + ")");
  }
  out_cols = shape[1];
  // `result` lives in XGBoost's per-thread buffer: copy before returning.
  out.assign(result, result + rows * out_cols);
  return Status::Ok();
}

Result<std::string> XgbBooster::SaveJson() const {
  bst_ulong len = 0;
  const char* bytes = nullptr;
  if (XGBoosterSaveModelToBuffer(handle_, "{\"format\":\"json\"}", &len, &bytes) != 0) {
    return XgbError("XGBoosterSaveModelToBuffer");
  }
  return std::string(bytes, len);
}

}  // namespace cairn::ml
