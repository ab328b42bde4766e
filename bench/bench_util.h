// Timing helpers shared by the benchmarks: milliseconds of a duration,
// percentiles of latency samples, and timing a loop of calls.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace cairn::bench {

using Steady = std::chrono::steady_clock;

inline double Ms(Steady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

inline double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// Latencies in milliseconds of `n` calls fn(0) .. fn(n - 1).
template <typename F>
std::vector<double> TimeCalls(int n, F fn) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto t0 = Steady::now();
    fn(i);
    out.push_back(Ms(Steady::now() - t0));
  }
  return out;
}

}  // namespace cairn::bench
