// Single-row XGBoost prediction latency (what online serving pays per
// request): XgbBooster::Predict against the same call made the plain C-API way
// (XGBoosterPredictFromDense with no proxy DMatrix), both on one booster in
// the same run. Also a 10,000-row block for the per-row cost of batch scoring.
// Usage: ml_bench [rounds=100] [calls=20000]
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ml/xgb_booster.h"

using cairn::bench::Percentile;
using cairn::bench::TimeCalls;

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 100;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 20000;
  const size_t rows = 20000, cols = 8;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> x(rows * cols), y(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) x[r * cols + c] = u(rng);
    y[r] = x[r * cols] + x[r * cols + 1] * x[r * cols + 2] + 0.2f * u(rng) > 0.8f ? 1 : 0;
  }
  DMatrixHandle dm = nullptr;
  BoosterHandle handle = nullptr;
  if (XGDMatrixCreateFromMat(x.data(), rows, cols, NAN, &dm) != 0 ||
      XGDMatrixSetFloatInfo(dm, "label", y.data(), rows) != 0 ||
      XGBoosterCreate(&dm, 1, &handle) != 0) {
    std::fprintf(stderr, "%s\n", XGBGetLastError());
    return 1;
  }
  XGBoosterSetParam(handle, "objective", "binary:logistic");
  XGBoosterSetParam(handle, "max_depth", "6");
  XGBoosterSetParam(handle, "tree_method", "hist");
  for (int i = 0; i < rounds; ++i) XGBoosterUpdateOneIter(handle, i, dm);
  XGDMatrixFree(dm);
  auto booster = cairn::ml::XgbBooster::Adopt(handle);
  if (!booster.ok()) {
    std::fprintf(stderr, "%s\n", booster.status().ToString().c_str());
    return 1;
  }
  const auto& b = **booster;
  const char* config =
      "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
      "\"strict_shape\":true,\"cache_id\":0,\"missing\":NaN}";
  std::vector<float> out;
  size_t out_cols = 0;
  auto plain = [&](int i) {
    const float* row = &x[(i % rows) * cols];
    char iface[160];
    std::snprintf(iface, sizeof iface,
                  "{\"data\":[%llu,true],\"shape\":[1,%zu],\"typestr\":\"<f4\",\"version\":3}",
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(row)), cols);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* res = nullptr;
    XGBoosterPredictFromDense(b.handle(), iface, config, nullptr, &shape, &dim, &res);
  };
  auto ours = [&](int i) { (void)b.Predict(&x[(i % rows) * cols], 1, cols, out, out_cols); };
  for (int i = 0; i < 1000; ++i) {
    plain(i);
    ours(i);
  }
  // Alternate rounds so machine noise hits both alike.
  std::vector<double> base, subject;
  for (int round = 0; round < 4; ++round) {
    auto a = TimeCalls(calls / 4, plain);
    auto s = TimeCalls(calls / 4, ours);
    base.insert(base.end(), a.begin(), a.end());
    subject.insert(subject.end(), s.begin(), s.end());
  }
  double b50 = Percentile(base, 0.5) * 1000, s50 = Percentile(subject, 0.5) * 1000;
  double b99 = Percentile(base, 0.99) * 1000, s99 = Percentile(subject, 0.99) * 1000;
  std::printf(
      "xgboost single-row predict (%d trees, depth 6, %zu features): p50 %.1f us, p99 %.1f us"
      " | plain C API (fresh proxy per call) p50 %.1f us, p99 %.1f us  speedup %.2fx\n",
      rounds, cols, s50, s99, b50, b99, b50 / s50);
  auto block = TimeCalls(5, [&](int) { (void)b.Predict(x.data(), 10000, cols, out, out_cols); });
  std::printf("xgboost 10,000-row block predict (nthread 1): %.2f us/row\n",
              Percentile(block, 0.5) * 1000 / 10000);
  return 0;
}
