// serving/request_log.h: sampled request/response logging for the monitoring
// issue. The hot path only moves a record into a bounded queue (never blocks;
// a full queue drops the record and counts it); one writer thread appends
// records as JSON Lines to
//   <root>/<endpoint>/<deployment>/YYYY-MM-DD.jsonl   (UTC date)
// The record format is documented in docs/serving.md ("Request logs").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::serving {

struct DeploymentMetrics;

struct RequestLogRecord {
  std::string request_id;
  std::chrono::system_clock::time_point timestamp;
  std::string endpoint;
  std::string deployment;
  std::string model_name;
  std::string model_version;
  int64_t generation = 0;
  std::string protocol;  // "v2", "mlflow", "azure"
  int status = 0;
  double latency_ms = 0;
  std::string request_body;   // as received
  std::string response_body;  // as answered
  // The features as the model saw them (native runtimes): column names and
  // rows x columns values (NaN = missing).
  std::shared_ptr<const std::vector<std::string>> columns;
  std::vector<float> features;
  size_t rows = 0;
};

class RequestLog {
 public:
  RequestLog(std::filesystem::path root, size_t capacity);
  ~RequestLog();  // writes what is queued, then stops
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Queues a record; false (and counted in `metrics`) when the queue is full.
  bool Push(RequestLogRecord record, DeploymentMetrics* metrics);
  // Blocks until every record queued so far is written (tests, shutdown).
  void Flush();
  uint64_t dropped() const { return dropped_.load(); }

  // The JSON line of a record (no trailing newline).
  static std::string Format(const RequestLogRecord& record);

 private:
  void WriterLoop();

  std::filesystem::path root_;
  size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_;
  std::deque<RequestLogRecord> queue_;
  uint64_t pushed_ = 0;
  uint64_t written_ = 0;
  bool stopping_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace cairn::serving
