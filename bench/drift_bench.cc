// Drift of 1,000,000 rows x 50 numeric features against stored reference summaries (the
// monitoring target: <= 1 s on 2 cores), next to a same-run baseline: one pass summing the
// same data. Usage: drift_bench [rows] [features] [threads]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "bench_util.h"
#include "data/drift_reference.h"

namespace {

uint64_t Next(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

double Uniform(uint64_t& s) {
  return (static_cast<double>(Next(s) >> 11) + 0.5) / 9007199254740992.0;
}

// Normal(mean, sd) by Box-Muller from a fixed seed.
std::vector<double> Column(uint64_t seed, size_t n, double mean, double sd) {
  std::vector<double> out(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (double& v : out) {
    double r = std::sqrt(-2 * std::log(Uniform(s)));
    v = mean + sd * r * std::cos(6.283185307179586 * Uniform(s));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using cairn::bench::Ms;
  using cairn::bench::Steady;
  const size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t features = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 50;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;

  std::vector<cairn::NumericReference> refs;
  std::vector<std::vector<double>> data;
  auto t0 = Steady::now();
  for (size_t f = 0; f < features; ++f) {
    auto ref = cairn::BuildNumericReference(Column(1000 + f, rows, 0, 1));
    if (!ref.ok()) {
      std::fprintf(stderr, "reference: %s\n", ref.status().ToString().c_str());
      return 1;
    }
    refs.push_back(std::move(*ref));
    data.push_back(Column(2000 + f, rows, 0.01 * static_cast<double>(f), 1));
  }
  std::printf("setup (generate + summarise references): %.0f ms\n", Ms(Steady::now() - t0));
  std::vector<std::span<const double>> columns(data.begin(), data.end());

  // Baseline: one pass summing every value, single-threaded.
  double best_sum = 1e300, best_drift = 1e300, sink = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto s0 = Steady::now();
    for (const auto& col : data) {
      for (double v : col) sink += v;
    }
    best_sum = std::min(best_sum, Ms(Steady::now() - s0));

    cairn::DriftOptions options;
    options.threads = threads;
    auto d0 = Steady::now();
    auto drift = cairn::ComputeDrift(refs, columns, options);
    best_drift = std::min(best_drift, Ms(Steady::now() - d0));
    if (!drift.ok()) {
      std::fprintf(stderr, "drift: %s\n", drift.status().ToString().c_str());
      return 1;
    }
    if (rep == 0) {
      const auto& last = drift->back();
      std::printf("feature %zu: JS %.4f  PSI %.4f  W1/std %.4f  KS D %.4f p %.3g\n", features - 1,
                  last.jensen_shannon, last.psi, last.normalized_wasserstein, last.ks.statistic,
                  last.ks.p_value);
    }
  }
  std::printf("rows %zu x features %zu, threads %d (best of 3)\n", rows, features, threads);
  std::printf("baseline: sum every value, 1 thread: %8.1f ms (checksum %.3g)\n", best_sum, sink);
  std::printf("ComputeDrift:                        %8.1f ms\n", best_drift);
  return 0;
}
