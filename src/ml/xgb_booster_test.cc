// Tests for XgbBooster: load formats, prediction shapes, error cases and
// concurrent prediction agreeing with serial prediction.
#include "ml/xgb_booster.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "core/fs.h"
#include "data/test_util.h"

namespace cairn::ml {
namespace {

// Trains a small model through the C API; returns its JSON bytes.
std::string TrainSmall(const std::string& objective, int num_class, size_t rows, size_t cols,
                       std::vector<float>* features_out = nullptr) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> x(rows * cols), y(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) x[r * cols + c] = u(rng);
    float s = x[r * cols] + 0.5f * x[r * cols + 1];
    if (objective == "binary:logistic")
      y[r] = s > 0.75f ? 1 : 0;
    else if (objective == "multi:softprob")
      y[r] = s < 0.5f ? 0 : (s < 1.0f ? 1 : 2);
    else
      y[r] = 3 * s;
  }
  if (features_out) *features_out = x;
  DMatrixHandle dm = nullptr;
  EXPECT_EQ(XGDMatrixCreateFromMat(x.data(), rows, cols, std::nanf(""), &dm), 0);
  EXPECT_EQ(XGDMatrixSetFloatInfo(dm, "label", y.data(), rows), 0);
  const char* names[] = {"a", "b", "c", "d"};
  EXPECT_EQ(XGDMatrixSetStrFeatureInfo(dm, "feature_name", names, cols), 0);
  BoosterHandle b = nullptr;
  EXPECT_EQ(XGBoosterCreate(&dm, 1, &b), 0);
  // As XGBoost's Python package does: the booster does not take names from its DMatrix.
  EXPECT_EQ(XGBoosterSetStrFeatureInfo(b, "feature_name", names, cols), 0);
  XGBoosterSetParam(b, "objective", objective.c_str());
  XGBoosterSetParam(b, "nthread", "1");
  XGBoosterSetParam(b, "max_depth", "3");
  if (num_class > 0) XGBoosterSetParam(b, "num_class", std::to_string(num_class).c_str());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(XGBoosterUpdateOneIter(b, i, dm), 0);
  bst_ulong len = 0;
  const char* bytes = nullptr;
  EXPECT_EQ(XGBoosterSaveModelToBuffer(b, "{\"format\":\"json\"}", &len, &bytes), 0);
  std::string out(bytes, len);
  XGBoosterFree(b);
  XGDMatrixFree(dm);
  return out;
}

TEST(XgbBoosterTest, BinaryLoadsAndPredictsProbabilities) {
  std::vector<float> x;
  auto booster = XgbBooster::LoadBuffer(TrainSmall("binary:logistic", 0, 200, 3, &x));
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  const XgbBooster& b = **booster;
  EXPECT_EQ(b.num_features(), 3u);
  EXPECT_EQ(b.objective(), "binary:logistic");
  EXPECT_EQ(b.feature_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(b.boosted_rounds(), 5);
  std::vector<float> out;
  size_t out_cols = 0;
  ASSERT_TRUE(b.Predict(x.data(), 200, 3, out, out_cols).ok());
  EXPECT_EQ(out_cols, 1u);
  ASSERT_EQ(out.size(), 200u);
  int correct = 0;
  for (size_t r = 0; r < 200; ++r) {
    EXPECT_GE(out[r], 0.f);
    EXPECT_LE(out[r], 1.f);
    bool truth = x[r * 3] + 0.5f * x[r * 3 + 1] > 0.75f;
    correct += (out[r] > 0.5f) == truth;
  }
  EXPECT_GT(correct, 170);  // learned something, not a constant
}

TEST(XgbBoosterTest, MulticlassGivesKProbabilitiesSummingToOne) {
  std::vector<float> x;
  auto booster = XgbBooster::LoadBuffer(TrainSmall("multi:softprob", 3, 150, 2, &x));
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  EXPECT_EQ((*booster)->num_class(), 3);
  std::vector<float> out;
  size_t out_cols = 0;
  ASSERT_TRUE((*booster)->Predict(x.data(), 10, 2, out, out_cols).ok());
  ASSERT_EQ(out_cols, 3u);
  for (size_t r = 0; r < 10; ++r) {
    EXPECT_NEAR(out[r * 3] + out[r * 3 + 1] + out[r * 3 + 2], 1.0, 1e-5);
  }
}

TEST(XgbBoosterTest, RegressionMissingValuesAndWrongWidth) {
  auto booster = XgbBooster::LoadBuffer(TrainSmall("reg:squarederror", 0, 100, 2));
  ASSERT_TRUE(booster.ok());
  std::vector<float> row = {std::nanf(""), 0.5f};
  std::vector<float> out;
  size_t out_cols = 0;
  ASSERT_TRUE((*booster)->Predict(row.data(), 1, 2, out, out_cols).ok());
  EXPECT_EQ(out_cols, 1u);
  EXPECT_TRUE(std::isfinite(out[0]));
  auto st = (*booster)->Predict(row.data(), 1, 1, out, out_cols);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(st.message().find("expects 2 features"), std::string::npos);
  ASSERT_TRUE((*booster)->Predict(row.data(), 0, 2, out, out_cols).ok());
  EXPECT_TRUE(out.empty());
}

TEST(XgbBoosterTest, SaveJsonRoundTripsAndFileFormats) {
  std::vector<float> x;
  auto first = XgbBooster::LoadBuffer(TrainSmall("binary:logistic", 0, 100, 3, &x));
  ASSERT_TRUE(first.ok());
  auto json = (*first)->SaveJson();
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->front(), '{');
  data::testing::ScratchDir dir;
  // UBJSON through XGBoost's own writer, then .json via ours.
  bst_ulong len = 0;
  const char* ubj = nullptr;
  ASSERT_EQ(XGBoosterSaveModelToBuffer((*first)->handle(), "{\"format\":\"ubj\"}", &len, &ubj), 0);
  ASSERT_TRUE(AtomicWriteFile(dir.path("m.ubj"), std::string_view(ubj, len)).ok());
  ASSERT_TRUE(AtomicWriteFile(dir.path("m.json"), *json).ok());
  std::vector<float> a, b, c;
  size_t cols = 0;
  ASSERT_TRUE((*first)->Predict(x.data(), 100, 3, a, cols).ok());
  for (const char* name : {"m.ubj", "m.json"}) {
    auto loaded = XgbBooster::LoadFile(dir.path(name).string());
    ASSERT_TRUE(loaded.ok()) << name << ": " << loaded.status().ToString();
    ASSERT_TRUE((*loaded)->Predict(x.data(), 100, 3, b, cols).ok());
    EXPECT_EQ(a, b) << name;
  }
}

TEST(XgbBoosterTest, BadInputIsAnErrorNotACrash) {
  EXPECT_FALSE(XgbBooster::LoadBuffer("").ok());
  EXPECT_FALSE(XgbBooster::LoadBuffer("{\"not\": \"a model\"}").ok());
  EXPECT_FALSE(XgbBooster::LoadBuffer("garbage garbage garbage").ok());
  auto missing = XgbBooster::LoadFile("/nonexistent/model.json");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.json"), std::string::npos);
}

TEST(XgbBoosterTest, ConcurrentPredictMatchesSerial) {
  std::vector<float> x;
  auto booster = XgbBooster::LoadBuffer(TrainSmall("multi:softprob", 3, 400, 4, &x));
  ASSERT_TRUE(booster.ok());
  const XgbBooster& b = **booster;
  // Serial reference, one row at a time (the serving shape).
  std::vector<float> expected;
  for (size_t r = 0; r < 400; ++r) {
    std::vector<float> out;
    size_t cols = 0;
    ASSERT_TRUE(b.Predict(&x[r * 4], 1, 4, out, cols).ok());
    expected.insert(expected.end(), out.begin(), out.end());
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        std::vector<float> all;
        for (size_t r = 0; r < 400; ++r) {
          std::vector<float> out;
          size_t cols = 0;
          if (!b.Predict(&x[r * 4], 1, 4, out, cols).ok()) ++failures;
          all.insert(all.end(), out.begin(), out.end());
        }
        if (all != expected) ++failures;
        // Whole blocks too, so per-thread buffers of different sizes interleave.
        std::vector<float> block;
        size_t cols = 0;
        if (!b.Predict(x.data(), 400, 4, block, cols).ok() || block != expected) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cairn::ml
