// serving/serving_metrics.cc: histograms and the Prometheus rendering.
#include "serving/serving_metrics.h"

#include <cstdio>
#include <vector>

namespace cairn::serving {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kLatencyBuckets.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < kLatencyBuckets.size() ? Num(kLatencyBuckets[i]) : "+Inf";
    out += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum{" + labels + "} " +
         Num(static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9) + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(count_.load()) + "\n";
}

std::shared_ptr<DeploymentMetrics> MetricsRegistry::Get(const std::string& endpoint,
                                                        const std::string& deployment) {
  std::lock_guard lk(mu_);
  auto& m = all_[{endpoint, deployment}];
  if (!m) m = std::make_shared<DeploymentMetrics>(endpoint, deployment);
  return m;
}

std::string MetricsRegistry::Render() const {
  std::vector<std::shared_ptr<DeploymentMetrics>> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& [_, m] : all_) all.push_back(m);
  }
  std::string out;
  auto labels = [](const DeploymentMetrics& m) {
    return "endpoint=\"" + Escape(m.endpoint) + "\",deployment=\"" + Escape(m.deployment) + "\"";
  };
  auto header = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto by_code = [&](const char* name, bool mirror) {
    for (const auto& m : all) {
      const auto& counts = mirror ? m->mirror : m->requests;
      for (size_t i = 0; i < counts.size(); ++i) {
        uint64_t n = counts[i].load(std::memory_order_relaxed);
        if (n == 0) continue;
        out += std::string(name) + "{" + labels(*m) + ",code=\"" + std::to_string(i + 100) +
               "\"} " + std::to_string(n) + "\n";
      }
    }
  };
  auto simple = [&](const char* name, auto get) {
    for (const auto& m : all) out += std::string(name) + "{" + labels(*m) + "} " + get(*m) + "\n";
  };
  header("cairn_serving_requests_total", "counter", "Scoring requests answered, by HTTP status.");
  by_code("cairn_serving_requests_total", false);
  header("cairn_serving_request_duration_seconds", "histogram",
         "Time from a request's arrival in the data plane to its response.");
  for (const auto& m : all) {
    if (m->latency.count())
      m->latency.Render(out, "cairn_serving_request_duration_seconds", labels(*m));
  }
  header("cairn_serving_queue_wait_seconds", "histogram",
         "Time a request waited for a free concurrency slot.");
  for (const auto& m : all) {
    if (m->queue_wait.count())
      m->queue_wait.Render(out, "cairn_serving_queue_wait_seconds", labels(*m));
  }
  header("cairn_serving_in_flight_requests", "gauge", "Requests being scored now.");
  simple("cairn_serving_in_flight_requests",
         [](const DeploymentMetrics& m) { return std::to_string(m.in_flight.load()); });
  header("cairn_serving_model_errors_total", "counter",
         "Requests the model or scoring script failed (500).");
  simple("cairn_serving_model_errors_total",
         [](const DeploymentMetrics& m) { return std::to_string(m.model_errors.load()); });
  header("cairn_serving_mirror_requests_total", "counter",
         "Mirrored (shadow) copies scored, by the status they would have had.");
  by_code("cairn_serving_mirror_requests_total", true);
  header("cairn_serving_mirror_dropped_total", "counter",
         "Mirrored copies dropped because the mirror queue was full.");
  simple("cairn_serving_mirror_dropped_total",
         [](const DeploymentMetrics& m) { return std::to_string(m.mirror_dropped.load()); });
  header("cairn_serving_request_log_dropped_total", "counter",
         "Sampled request-log records dropped because the log queue was full.");
  simple("cairn_serving_request_log_dropped_total",
         [](const DeploymentMetrics& m) { return std::to_string(m.log_dropped.load()); });
  header("cairn_serving_deployment_ready", "gauge",
         "1 when a generation of the deployment serves.");
  for (const auto& m : all) {
    if (!m->deployment.empty()) {
      out += "cairn_serving_deployment_ready{" + labels(*m) + "} " +
             std::to_string(m->ready.load()) + "\n";
    }
  }
  return out;
}

}  // namespace cairn::serving
