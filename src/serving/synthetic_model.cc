// serving/synthetic_model.cc: a real XGBoost model for tests and benchmarks
// (see synthetic_model.h), trained with libxgboost's C API.
#include "serving/synthetic_model.h"

#include <xgboost/c_api.h>
#include <xgboost/version_config.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/fs.h"
#include "registry/mlmodel.h"

namespace cairn::serving {

std::vector<float> SyntheticRows(int rows, int features, unsigned seed) {
  std::vector<float> x(static_cast<size_t>(rows) * static_cast<size_t>(features));
  uint64_t s = seed * 2654435761ull + 1;
  for (float& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>((s >> 33) % 10000) / 1000.0f - 5.0f;  // [-5, 5)
  }
  return x;
}

Status WriteSyntheticXgbModel(const std::filesystem::path& dir, const SyntheticModelOptions& o) {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(dir));
  std::vector<float> x = SyntheticRows(o.rows, o.features, o.seed);
  std::vector<float> y(static_cast<size_t>(o.rows));
  for (int r = 0; r < o.rows; ++r) {
    const float* f = x.data() + static_cast<size_t>(r) * static_cast<size_t>(o.features);
    float z =
        f[0] + 0.5f * f[1 % o.features] - f[2 % o.features] + 0.25f * f[0] * f[3 % o.features];
    y[static_cast<size_t>(r)] = z > 0 ? 1.0f : 0.0f;
  }
  DMatrixHandle dm = nullptr;
  BoosterHandle booster = nullptr;
  auto fail = [&](const char* what) {
    std::string why = std::string(what) + ": " + XGBGetLastError();
    if (booster) XGBoosterFree(booster);
    if (dm) XGDMatrixFree(dm);
    return InternalError("training the synthetic model failed at " + why);
  };
  if (XGDMatrixCreateFromMat(x.data(), static_cast<bst_ulong>(o.rows),
                             static_cast<bst_ulong>(o.features), std::nanf(""), &dm) != 0) {
    return fail("XGDMatrixCreateFromMat");
  }
  if (XGDMatrixSetFloatInfo(dm, "label", y.data(), static_cast<bst_ulong>(o.rows)) != 0) {
    return fail("labels");
  }
  if (XGBoosterCreate(&dm, 1, &booster) != 0) return fail("XGBoosterCreate");
  std::string depth = std::to_string(o.max_depth);
  const char* params[][2] = {{"objective", o.objective.c_str()},
                             {"max_depth", depth.c_str()},
                             {"eta", "0.3"},
                             {"tree_method", "hist"},
                             {"nthread", "1"},
                             {"seed", "7"}};
  for (auto& p : params) {
    if (XGBoosterSetParam(booster, p[0], p[1]) != 0) return fail("XGBoosterSetParam");
  }
  for (int i = 0; i < o.trees; ++i) {
    if (XGBoosterUpdateOneIter(booster, i, dm) != 0) return fail("XGBoosterUpdateOneIter");
  }
  if (XGBoosterSaveModel(booster, (dir / "model.json").c_str()) != 0) return fail("save");
  XGBoosterFree(booster);
  XGDMatrixFree(dm);

  MLmodelInfo info;
  info.artifact_path = "model";
  info.flavors["xgboost"] = {
      {"data", "model.json"},
      {"model_class", "xgboost.core.Booster"},
      {"model_format", "json"},
      {"xgb_version", std::to_string(XGBOOST_VER_MAJOR) + "." + std::to_string(XGBOOST_VER_MINOR) +
                          "." + std::to_string(XGBOOST_VER_PATCH)}};
  nlohmann::json inputs = nlohmann::json::array();
  for (int i = 0; i < o.features; ++i) {
    inputs.push_back({{"name", "f" + std::to_string(i)}, {"type", "double"}});
  }
  info.signature_inputs = inputs;
  info.signature_outputs = nlohmann::json::parse(
      R"([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}])");
  return AtomicWriteFile(dir / "MLmodel", WriteMLmodel(info));
}

}  // namespace cairn::serving
