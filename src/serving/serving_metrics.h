// serving/serving_metrics.h: per (endpoint, deployment) counters of the data
// plane, updated lock-free on the hot path (relaxed atomics) and rendered in
// Prometheus' text format for GET /metrics. A DeploymentMetrics outlives the
// deployment's generations, so counters continue across updates.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace cairn::serving {

// Upper bounds (seconds) of the latency and queue-wait histogram buckets.
inline constexpr std::array<double, 16> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

class Histogram {
 public:
  void Observe(double seconds);
  void Render(std::string& out, const std::string& name, const std::string& labels) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

struct DeploymentMetrics {
  DeploymentMetrics(std::string endpoint, std::string deployment)
      : endpoint(std::move(endpoint)), deployment(std::move(deployment)) {}
  const std::string endpoint;
  const std::string deployment;  // "" for requests refused before routing (401, 503)

  static size_t SlotOf(int code) {
    return static_cast<size_t>(code >= 100 && code < 600 ? code - 100 : 499);
  }
  void CountStatus(int code) { requests[SlotOf(code)].fetch_add(1, std::memory_order_relaxed); }
  void CountMirror(int code) { mirror[SlotOf(code)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t requests_with(int code) const { return requests[SlotOf(code)].load(); }
  uint64_t mirrored_with(int code) const { return mirror[SlotOf(code)].load(); }

  std::array<std::atomic<uint64_t>, 500> requests{};  // by HTTP status - 100
  std::array<std::atomic<uint64_t>, 500> mirror{};    // mirrored copies, by status
  Histogram latency;
  Histogram queue_wait;
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> model_errors{0};
  std::atomic<uint64_t> mirror_dropped{0};  // mirror queue full (counted on the mirror target)
  std::atomic<uint64_t> log_dropped{0};     // request-log queue full
  std::atomic<uint64_t> logged{0};          // request-log records queued
  std::atomic<int> ready{0};                // gauge: a generation is serving
};

// Owns every DeploymentMetrics (kept after a deployment is deleted, so a
// scrape never sees a counter go backwards while the process lives).
class MetricsRegistry {
 public:
  std::shared_ptr<DeploymentMetrics> Get(const std::string& endpoint,
                                         const std::string& deployment);
  // Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<DeploymentMetrics>> all_;
};

}  // namespace cairn::serving
