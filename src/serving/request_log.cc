// serving/request_log.cc: the request-log queue and its writer thread.
#include "serving/request_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>
#include <map>

#include "core/clock.h"
#include "core/fs.h"
#include "serving/serving_metrics.h"

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

std::string Iso8601(std::chrono::system_clock::time_point t, std::string* date) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::string out = Rfc3339Millis(ms);
  if (date) *date = out.substr(0, 10);  // YYYY-MM-DD
  return out;
}

// A body as JSON when it is JSON, else as a string.
Json BodyJson(const std::string& body) {
  if (body.empty()) return nullptr;
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return body;
  return j;
}

// One path segment: the control plane validates names; this is the last guard.
bool SafeName(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

}  // namespace

RequestLog::RequestLog(std::filesystem::path root, size_t capacity)
    : root_(std::move(root)), capacity_(capacity) {
  writer_ = std::thread([this] { WriterLoop(); });
}

RequestLog::~RequestLog() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

bool RequestLog::Push(RequestLogRecord record, DeploymentMetrics* metrics) {
  {
    // Held for a push_back only (the writer swaps the whole queue out), so a
    // request never waits for file I/O.
    std::lock_guard lk(mu_);
    if (queue_.size() >= capacity_ || stopping_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      if (metrics) metrics->log_dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(record));
    ++pushed_;
  }
  if (metrics) metrics->logged.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
  return true;
}

void RequestLog::Flush() {
  std::unique_lock lk(mu_);
  uint64_t target = pushed_;
  flushed_.wait(lk, [&] { return written_ >= target; });
}

std::string RequestLog::Format(const RequestLogRecord& r) {
  Json j;
  j["request_id"] = r.request_id;
  j["timestamp"] = Iso8601(r.timestamp, nullptr);
  j["endpoint"] = r.endpoint;
  j["deployment"] = r.deployment;
  j["model_name"] = r.model_name;
  j["model_version"] = r.model_version;
  j["generation"] = r.generation;
  j["protocol"] = r.protocol;
  j["status"] = r.status;
  j["latency_ms"] = std::round(r.latency_ms * 1000.0) / 1000.0;
  j["inputs"] = BodyJson(r.request_body);
  j["outputs"] = BodyJson(r.response_body);
  if (r.columns && r.rows > 0) {
    Json data = Json::array();
    const size_t cols = r.columns->size();
    for (size_t i = 0; i < r.rows; ++i) {
      Json row = Json::array();
      for (size_t c = 0; c < cols; ++c) {
        float v = r.features[i * cols + c];
        if (std::isnan(v)) {
          row.push_back(nullptr);
        } else {
          row.push_back(v);
        }
      }
      data.push_back(std::move(row));
    }
    j["features"] = {{"columns", *r.columns}, {"data", std::move(data)}};
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void RequestLog::WriterLoop() {
  std::map<std::string, UniqueFd> files;  // path -> append handle
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::deque<RequestLogRecord> batch;
    batch.swap(queue_);
    lk.unlock();
    std::map<std::string, std::string> pending;  // path -> lines
    for (const auto& r : batch) {
      if (!SafeName(r.endpoint) || !SafeName(r.deployment)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);  // never a path outside the log root
        continue;
      }
      std::string date;
      Iso8601(r.timestamp, &date);
      std::string path = (root_ / r.endpoint / r.deployment / (date + ".jsonl")).string();
      pending[path] += Format(r) + "\n";
    }
    for (auto& [path, text] : pending) {
      auto it = files.find(path);
      if (it == files.end()) {
        if (files.size() > 256) files.clear();  // a day rolled over: old handles go
        (void)EnsureDirectory(std::filesystem::path(path).parent_path());
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        it = files.emplace(path, std::move(fd)).first;
      }
      if (it->second.get() < 0) continue;  // unwritable: the records are lost, not the server
      const char* p = text.data();
      size_t n = text.size();
      while (n > 0) {
        ssize_t k = ::write(it->second.get(), p, n);
        if (k <= 0) break;
        p += k;
        n -= static_cast<size_t>(k);
      }
    }
    lk.lock();
    written_ += batch.size();
    flushed_.notify_all();
  }
}

}  // namespace cairn::serving
