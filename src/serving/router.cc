// serving/router.cc: the data plane (see router.h). Layout:
//   Router::Impl  — endpoint map (an immutable map swapped on change), model
//                   loads, the mirror queue and its threads, the request log;
//   EndpointRecord — one endpoint's control state under its own mutex, and
//                   its current RoutingTable (immutable, swapped atomically);
//   Instance      — one loaded generation of a deployment: its runtime,
//                   concurrency limiter and settings.
#include "serving/router.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "serving/request_log.h"
#include "serving/serving_metrics.h"
#include "serving/snapshot_cell.h"

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

// Per-thread xorshift: sampling and request ids without a shared RNG.
uint64_t FastRandom() {
  thread_local uint64_t s = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd() ^ 0x9E3779B97F4A7C15ull;
  }();
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

std::string NewRequestId() {
  static const char* kHex = "0123456789abcdef";
  uint64_t a = FastRandom(), b = FastRandom();
  std::string id(36, '-');
  int bit = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    uint64_t& src = bit < 64 ? a : b;
    id[i] = kHex[(src >> (bit % 64)) & 0xF];
    bit += 4;
  }
  return id;
}

// Concurrency slots of one deployment generation: a lock-free fast path, a
// condition variable for requests that queue (bounded by max_queue_wait_ms).
class Limiter {
 public:
  explicit Limiter(int limit) : limit_(std::max(1, limit)) {}

  bool TryAcquire() {
    int cur = in_use_.load();
    while (cur < limit_) {
      if (in_use_.compare_exchange_weak(cur, cur + 1)) return true;
    }
    return false;
  }

  bool Acquire(SteadyClock::time_point deadline) {
    if (TryAcquire()) return true;
    std::unique_lock lk(mu_);
    waiters_.fetch_add(1);
    bool got = cv_.wait_until(lk, deadline, [&] { return TryAcquire(); });
    waiters_.fetch_sub(1);
    return got;
  }

  void Release() {
    in_use_.fetch_sub(1);
    if (waiters_.load() > 0) {
      std::lock_guard lk(mu_);
      cv_.notify_one();
    }
  }

  int limit() const { return limit_; }

 private:
  const int limit_;
  std::atomic<int> in_use_{0};
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// A deployment's recent log lines (model load, worker output), for GetLogs.
struct LogBuffer {
  explicit LogBuffer(size_t cap) : cap(cap) {}
  void Add(const std::string& line) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    std::lock_guard lk(mu);
    lines.push_back(ts + line);
    while (lines.size() > cap) lines.pop_front();
  }
  std::mutex mu;
  std::deque<std::string> lines;
  size_t cap;
};

struct Instance {
  Instance(DeploymentConfig c, std::shared_ptr<Runtime> rt, std::shared_ptr<DeploymentMetrics> m)
      : config(std::move(c)),
        runtime(std::move(rt)),
        metrics(std::move(m)),
        limiter(std::max(1, config.request.max_concurrent_requests_per_instance) *
                std::max(1, config.instance_count)) {
    auto names = std::make_shared<std::vector<std::string>>();
    for (const auto& col : runtime->columns()) names->push_back(col.name);
    column_names = std::move(names);
  }
  const DeploymentConfig config;
  const std::shared_ptr<Runtime> runtime;
  const std::shared_ptr<DeploymentMetrics> metrics;
  std::shared_ptr<const std::vector<std::string>> column_names;
  Limiter limiter;
};

struct RoutingTable {
  std::string auth_mode;
  std::string primary_key;
  std::string secondary_key;
  std::vector<Instance*> wheel;  // live traffic, interleaved by weight; owned via `ready`
  std::map<std::string, std::shared_ptr<Instance>, std::less<>> ready;
  std::set<std::string, std::less<>> configured;
  std::shared_ptr<Instance> mirror;
  int mirror_percent = 0;
  std::string default_deployment;  // for unversioned V2 metadata: the largest live share
};

struct DeploymentSlot {
  DeploymentConfig desired;      // latest config (settings apply to new instances)
  DeploymentConfig loading_cfg;  // what the running load loads
  std::shared_ptr<Instance> serving;
  uint64_t load_token = 0;
  bool loading = false;
  std::string state = "Creating";
  std::string error;
  std::shared_ptr<LogBuffer> logs;
  std::shared_ptr<DeploymentMetrics> metrics;
};

struct EndpointRecord {
  std::mutex mu;  // control changes of this endpoint only; never taken by Score
  EndpointConfig config;
  std::map<std::string, DeploymentSlot> slots;
  bool removed = false;
  std::atomic<uint64_t> next_live{0};
  std::atomic<uint64_t> next_mirror{0};
  std::shared_ptr<DeploymentMetrics> unrouted;  // refused before a deployment was chosen
};

// What a scoring request reads: every endpoint with its current routing
// table, one immutable snapshot replaced as a whole on any change (control
// changes are rare; reads are lock-free through SnapshotCell).
struct RoutingEntry {
  std::shared_ptr<EndpointRecord> record;
  std::shared_ptr<const RoutingTable> table;
};
using RoutingState = std::map<std::string, RoutingEntry, std::less<>>;

// Fields whose change needs the model (or workers) loaded again.
bool SameModel(const DeploymentConfig& a, const DeploymentConfig& b) {
  return a.generation == b.generation && a.model_dir == b.model_dir &&
         a.model_name == b.model_name && a.model_version == b.model_version &&
         a.signature_inputs_json == b.signature_inputs_json && a.code_dir == b.code_dir &&
         a.scoring_script == b.scoring_script && a.python == b.python &&
         a.instance_count == b.instance_count;
}

bool SameSettings(const DeploymentConfig& a, const DeploymentConfig& b) {
  return a.request.request_timeout_ms == b.request.request_timeout_ms &&
         a.request.max_concurrent_requests_per_instance ==
             b.request.max_concurrent_requests_per_instance &&
         a.request.max_queue_wait_ms == b.request.max_queue_wait_ms &&
         a.data_collector.enabled == b.data_collector.enabled &&
         a.data_collector.sampling_rate == b.data_collector.sampling_rate;
}

bool KeyMatches(std::string_view given, const std::string& key) {
  if (key.empty() || given.size() != key.size()) return false;
  unsigned char diff = 0;  // constant time over the key's length
  for (size_t i = 0; i < key.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  }
  return diff == 0;
}

// Authorization: Bearer <primary or secondary key>.
Status CheckAuth(const RoutingTable& t, std::string_view header) {
  if (t.auth_mode != "key") {
    return Status(ErrorCode::kPermissionDenied,
                  "auth_mode '" + t.auth_mode + "' is not supported by this server");
  }
  if (header.size() < 7 ||
      !(header.substr(0, 7) == "Bearer " || header.substr(0, 7) == "bearer ")) {
    return Status(ErrorCode::kPermissionDenied,
                  "missing key: send the header 'Authorization: Bearer <endpoint key>' (cairn "
                  "endpoint get-credentials)");
  }
  std::string_view token = header.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.remove_suffix(1);
  if (KeyMatches(token, t.primary_key) || KeyMatches(token, t.secondary_key)) return Status::Ok();
  return Status(ErrorCode::kPermissionDenied, "the endpoint key is not valid");
}

ScoreResponse ErrorResponse(Protocol p, int http, ErrorCode code, const std::string& message) {
  ScoreResponse r;
  r.status = http;
  r.body = FormatScoringError(p, code, message);
  return r;
}

const char* ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kV2:
      return "v2";
    case Protocol::kMlflow:
      return "mlflow";
    case Protocol::kAzure:
      return "azure";
  }
  return "?";
}

struct Outcome {
  int status = 200;
  std::string body;
  ScoreBatch batch;
};

struct MirrorJob {
  std::shared_ptr<Instance> target;
  Protocol protocol;
  std::string content_type;
  std::string body;
};

}  // namespace

struct Router::Impl {
  explicit Impl(RouterOptions o) : options(std::move(o)) {
    if (!options.runtime_factory) options.runtime_factory = LoadRuntime;
    if (!options.log_root.empty()) {
      request_log = std::make_unique<RequestLog>(options.log_root, options.log_queue_capacity);
    }
    for (int i = 0; i < std::max(1, options.mirror_threads); ++i) {
      mirror_threads.emplace_back([this] { MirrorLoop(); });
    }
  }

  ~Impl() {
    WaitForLoads(std::chrono::hours(1));
    {
      std::lock_guard lk(mirror_mu);
      mirror_stop = true;
    }
    mirror_cv.notify_all();
    for (auto& t : mirror_threads) t.join();
  }

  RouterOptions options;
  MetricsRegistry metrics;
  std::unique_ptr<RequestLog> request_log;

  std::mutex map_mu;  // writers of `state` only (taken after an EndpointRecord::mu, never before)
  SnapshotCell<RoutingState> state{std::make_shared<const RoutingState>()};

  std::mutex listener_mu;  // held while the listener runs
  LoadListener listener;

  std::mutex loads_mu;
  std::condition_variable loads_cv;
  int loads_running = 0;
  std::atomic<uint64_t> next_token{0};

  std::mutex mirror_mu;
  std::condition_variable mirror_cv;
  std::condition_variable mirror_idle;
  std::deque<MirrorJob> mirror_queue;
  int mirror_active = 0;
  bool mirror_stop = false;
  std::vector<std::thread> mirror_threads;

  std::shared_ptr<EndpointRecord> Find(std::string_view name) const {
    auto s = state.Read();
    auto it = s->find(name);
    return it == s->end() ? nullptr : it->second.record;
  }

  // Replaces the state with `edit` applied to a copy (map_mu held).
  template <class Edit>
  void EditState(const Edit& edit) {
    auto next = std::make_shared<RoutingState>(*state.Current());
    edit(*next);
    state.Publish(std::shared_ptr<const RoutingState>(std::move(next)));
  }

  // Rebuilds and publishes an endpoint's routing table (rec.mu held).
  void Publish(EndpointRecord& rec) {
    auto t = std::make_shared<RoutingTable>();
    t->auth_mode = rec.config.auth_mode;
    t->primary_key = rec.config.primary_key;
    t->secondary_key = rec.config.secondary_key;
    for (const auto& [name, slot] : rec.slots) {
      t->configured.insert(name);
      if (slot.serving) t->ready.emplace(name, slot.serving);
    }
    // Smooth weighted round robin over the ready deployments with traffic: a
    // fixed wheel (length = total weight) that interleaves them evenly.
    std::vector<std::pair<Instance*, int>> weights;
    int best = 0;
    for (const auto& [name, percent] : rec.config.traffic) {
      auto it = t->ready.find(name);
      if (percent <= 0 || it == t->ready.end()) continue;
      weights.emplace_back(it->second.get(), percent);
      if (percent > best) {
        best = percent;
        t->default_deployment = name;
      }
    }
    int total = 0;
    for (const auto& w : weights) total += w.second;
    std::vector<int> current(weights.size(), 0);
    for (int n = 0; n < total; ++n) {
      size_t pick = 0;
      for (size_t i = 0; i < weights.size(); ++i) {
        current[i] += weights[i].second;
        if (current[i] > current[pick]) pick = i;
      }
      current[pick] -= total;
      t->wheel.push_back(weights[pick].first);
    }
    if (t->default_deployment.empty() && !t->ready.empty()) {
      t->default_deployment = t->ready.begin()->first;
    }
    for (const auto& [name, percent] : rec.config.mirror_traffic) {
      auto it = t->ready.find(name);
      if (percent > 0 && it != t->ready.end()) {
        t->mirror = it->second;
        t->mirror_percent = std::min(percent, 100);
      }
    }
    std::shared_ptr<const RoutingTable> table(std::move(t));
    std::lock_guard lk(map_mu);
    EditState([&](RoutingState& s) {
      for (auto& [_, entry] : s) {
        if (entry.record.get() == &rec) entry.table = table;  // absent once removed
      }
    });
  }

  void StartLoad(const std::shared_ptr<EndpointRecord>& rec, DeploymentSlot& slot,
                 const DeploymentConfig& config) {
    uint64_t token = ++next_token;
    slot.load_token = token;
    slot.loading = true;
    slot.loading_cfg = config;
    // A reload beside a serving generation is "Updating" (Azure's state), so a
    // client polling for Succeeded waits for the new generation, not the old.
    slot.state = slot.serving ? "Updating" : "Creating";
    slot.error.clear();
    {
      std::lock_guard lk(loads_mu);
      ++loads_running;
    }
    std::shared_ptr<LogBuffer> logs = slot.logs;
    logs->Add("loading generation " + std::to_string(config.generation) +
              (config.model_name.empty()
                   ? ""
                   : " (model " + config.model_name + ":" + config.model_version + ")"));
    std::thread([this, rec, config, token, logs] {
      LogSink sink = [logs](const std::string& line) { logs->Add(line); };
      Result<std::unique_ptr<Runtime>> loaded = Status(ErrorCode::kInternalError, "not loaded");
      try {
        loaded = options.runtime_factory(config, sink);
      } catch (const std::exception& e) {
        loaded = InternalError(std::string("loading the model threw: ") + e.what());
      }
      std::shared_ptr<Runtime> runtime;
      std::optional<LoadReport> report;
      {
        std::lock_guard lk(rec->mu);
        auto it = rec->slots.find(config.name);
        bool current = !rec->removed && it != rec->slots.end() && it->second.load_token == token;
        if (current) {
          DeploymentSlot& slot = it->second;
          slot.loading = false;
          if (loaded.ok()) {
            runtime = std::move(loaded).value();
            slot.serving = std::make_shared<Instance>(slot.desired, runtime, slot.metrics);
            slot.state = "Succeeded";
            slot.error.clear();
            slot.metrics->ready.store(1);
            logs->Add("generation " + std::to_string(config.generation) + " is ready and serving");
            Publish(*rec);
          } else {
            slot.state = "Failed";
            slot.error = loaded.status().message();
            logs->Add("load failed: " + slot.error +
                      (slot.serving ? " (the previous generation keeps serving)" : ""));
          }
          report = LoadReport{
              rec->config.name, config.name, config.generation,
              loaded.ok(),      slot.error,  slot.serving ? slot.serving->config.generation : 0};
        } else if (loaded.ok()) {
          runtime = std::move(loaded).value();  // superseded: discarded below, outside the lock
        }
      }
      runtime.reset();
      if (report) {
        // Before the load counts as finished, so WaitForLoads also waits for
        // the control plane to have recorded the result.
        std::lock_guard lk(listener_mu);
        if (listener) listener(*report);
      }
      std::lock_guard lk(loads_mu);
      --loads_running;
      loads_cv.notify_all();
    }).detach();
  }

  bool WaitForLoads(std::chrono::milliseconds timeout) {
    std::unique_lock lk(loads_mu);
    return loads_cv.wait_for(lk, timeout, [&] { return loads_running == 0; });
  }

  // Parses, queues for a slot, scores and formats one request on `inst`.
  Outcome Execute(Instance& inst, Protocol protocol, std::string_view content_type,
                  std::string_view body, SteadyClock::time_point t0, bool live) {
    Outcome out;
    const DeploymentConfig& cfg = inst.config;
    auto deadline = t0 + std::chrono::milliseconds(std::max(1, cfg.request.request_timeout_ms));
    std::string request_id;
    if (inst.runtime->wants_raw()) {
      out.batch.raw_body.assign(body);
    } else {
      Status st = ParseScoringRequest(protocol, content_type, body, inst.runtime->columns(),
                                      out.batch, request_id);
      if (!st.ok()) {
        out.status = 400;
        out.body = FormatScoringError(protocol, st.code(), st.message());
        return out;
      }
    }
    auto queued = SteadyClock::now();
    auto queue_deadline = std::min(
        deadline, queued + std::chrono::milliseconds(std::max(0, cfg.request.max_queue_wait_ms)));
    bool got = inst.limiter.Acquire(queue_deadline);
    if (live) {
      inst.metrics->queue_wait.Observe(
          std::chrono::duration<double>(SteadyClock::now() - queued).count());
    }
    if (!got) {
      if (SteadyClock::now() >= deadline) {
        out.status = 504;
        out.body = FormatScoringError(protocol, ErrorCode::kTemporarilyUnavailable,
                                      "request timed out after " +
                                          std::to_string(cfg.request.request_timeout_ms) +
                                          " ms waiting for a free slot");
      } else {
        out.status = 429;
        out.body = FormatScoringError(
            protocol, ErrorCode::kResourceExhausted,
            "too many requests: deployment '" + cfg.name + "' is scoring " +
                std::to_string(inst.limiter.limit()) +
                " requests at once (max_concurrent_requests_per_instance x instance_count) and "
                "none finished within max_queue_wait_ms=" +
                std::to_string(cfg.request.max_queue_wait_ms) + "; retry later");
      }
      return out;
    }
    ScoreResult result;
    Status st;
    try {
      st = inst.runtime->Predict(out.batch, deadline, result);
    } catch (const std::exception& e) {
      st = InternalError(std::string("the model threw: ") + e.what());
    }
    inst.limiter.Release();
    if (result.timed_out) {
      out.status = 504;
      out.body = FormatScoringError(protocol, ErrorCode::kTemporarilyUnavailable,
                                    "request timed out after " +
                                        std::to_string(cfg.request.request_timeout_ms) +
                                        " ms (request_timeout_ms): " + st.message());
      return out;
    }
    if (!st.ok()) {
      switch (st.code()) {
        case ErrorCode::kInvalidParameterValue:
        case ErrorCode::kBadRequest:
          out.status = 400;
          break;
        case ErrorCode::kTemporarilyUnavailable:
          out.status = 503;
          break;
        default:
          out.status = 500;
          inst.metrics->model_errors.fetch_add(1, std::memory_order_relaxed);
      }
      out.body = FormatScoringError(protocol, st.code(), st.message());
      return out;
    }
    if (inst.runtime->wants_raw()) {
      out.body = std::move(result.json);
    } else {
      out.body = FormatScoringResponse(protocol, result, cfg.endpoint, cfg.name, request_id);
    }
    return out;
  }

  void EnqueueMirror(const std::shared_ptr<Instance>& target, const ScoreCall& call) {
    {
      std::lock_guard lk(mirror_mu);
      if (mirror_queue.size() < options.mirror_queue_capacity) {
        mirror_queue.push_back(
            {target, call.protocol, std::string(call.content_type), std::string(call.body)});
        mirror_cv.notify_one();
        return;
      }
    }
    target->metrics->mirror_dropped.fetch_add(1, std::memory_order_relaxed);
  }

  void MirrorLoop() {
    std::unique_lock lk(mirror_mu);
    for (;;) {
      mirror_cv.wait(lk, [&] { return mirror_stop || !mirror_queue.empty(); });
      if (mirror_queue.empty()) return;  // stopping
      MirrorJob job = std::move(mirror_queue.front());
      mirror_queue.pop_front();
      ++mirror_active;
      lk.unlock();
      Outcome o = Execute(*job.target, job.protocol, job.content_type, job.body, SteadyClock::now(),
                          /*live=*/false);
      job.target->metrics->CountMirror(o.status);  // the response itself is discarded
      job.target.reset();
      lk.lock();
      --mirror_active;
      if (mirror_queue.empty() && mirror_active == 0) mirror_idle.notify_all();
    }
  }
};

Router::Router(RouterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Router::~Router() = default;

void Router::ApplyEndpoint(const EndpointConfig& config) {
  std::shared_ptr<EndpointRecord> rec;
  {
    std::lock_guard lk(impl_->map_mu);
    rec = impl_->Find(config.name);
    if (!rec) {
      rec = std::make_shared<EndpointRecord>();
      rec->unrouted = impl_->metrics.Get(config.name, "");
      impl_->EditState([&](RoutingState& s) {
        s[config.name] = RoutingEntry{rec, std::make_shared<const RoutingTable>()};
      });
    }
  }
  std::lock_guard lk(rec->mu);
  rec->config = config;
  std::set<std::string> wanted;
  for (const DeploymentConfig& given : config.deployments) {
    DeploymentConfig d = given;
    d.endpoint = config.name;
    wanted.insert(d.name);
    auto [it, created] = rec->slots.try_emplace(d.name);
    DeploymentSlot& slot = it->second;
    if (created) {
      slot.logs = std::make_shared<LogBuffer>(impl_->options.log_lines_kept);
      slot.metrics = impl_->metrics.Get(config.name, d.name);
    }
    slot.desired = d;
    const DeploymentConfig* current =
        slot.loading ? &slot.loading_cfg : (slot.serving ? &slot.serving->config : nullptr);
    if (!current || !SameModel(*current, d)) {
      impl_->StartLoad(rec, slot, d);
    } else if (slot.serving && !slot.loading && !SameSettings(slot.serving->config, d)) {
      // Settings only: a new instance over the same loaded runtime.
      slot.serving = std::make_shared<Instance>(d, slot.serving->runtime, slot.metrics);
    }
  }
  for (auto it = rec->slots.begin(); it != rec->slots.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    it->second.metrics->ready.store(0);
    it = rec->slots.erase(it);  // in-flight requests keep their instance alive
  }
  impl_->Publish(*rec);
}

void Router::RemoveEndpoint(const std::string& endpoint) {
  std::shared_ptr<EndpointRecord> rec;
  {
    std::lock_guard lk(impl_->map_mu);
    rec = impl_->Find(endpoint);
    if (!rec) return;
    impl_->EditState([&](RoutingState& s) { s.erase(endpoint); });
  }
  std::lock_guard lk(rec->mu);
  rec->removed = true;
  for (auto& [_, slot] : rec->slots) slot.metrics->ready.store(0);
  rec->slots.clear();
}

DeploymentState Router::GetDeploymentState(const std::string& endpoint,
                                           const std::string& deployment) {
  DeploymentState s;
  auto rec = impl_->Find(endpoint);
  if (!rec) {
    s.provisioning_state = "Failed";
    s.error = "endpoint '" + endpoint + "' is not loaded in the data plane";
    return s;
  }
  std::lock_guard lk(rec->mu);
  auto it = rec->slots.find(deployment);
  if (it == rec->slots.end()) {
    s.provisioning_state = "Failed";
    s.error = "deployment '" + deployment + "' is not loaded in the data plane";
    return s;
  }
  s.provisioning_state = it->second.state;
  s.error = it->second.error;
  s.ready = it->second.serving != nullptr;
  return s;
}

std::string Router::GetLogs(const std::string& endpoint, const std::string& deployment,
                            int max_lines) {
  auto rec = impl_->Find(endpoint);
  if (!rec) return "";
  std::shared_ptr<LogBuffer> logs;
  {
    std::lock_guard lk(rec->mu);
    auto it = rec->slots.find(deployment);
    if (it == rec->slots.end()) return "";
    logs = it->second.logs;
  }
  std::lock_guard lk(logs->mu);
  size_t n = std::min(logs->lines.size(), static_cast<size_t>(std::max(0, max_lines)));
  std::string out;
  for (size_t i = logs->lines.size() - n; i < logs->lines.size(); ++i) out += logs->lines[i] + "\n";
  return out;
}

void Router::SetLoadListener(LoadListener listener) {
  std::lock_guard lk(impl_->listener_mu);
  impl_->listener = std::move(listener);
}

ScoreResponse Router::Score(const ScoreCall& call) {
  const auto t0 = SteadyClock::now();
  // The snapshot (and every instance it routes to) stays alive until `state`
  // goes out of scope, after the answer is complete.
  auto state = impl_->state.Read();
  auto entry = state->find(call.endpoint);
  if (entry == state->end()) {
    auto r = ErrorResponse(call.protocol, 404, ErrorCode::kResourceDoesNotExist,
                           "endpoint '" + std::string(call.endpoint) + "' does not exist");
    return r;
  }
  EndpointRecord* rec = entry->second.record.get();
  const RoutingTable* table = entry->second.table.get();
  std::string request_id = call.request_id.empty() ? NewRequestId() : std::string(call.request_id);
  auto refuse = [&](int http, ErrorCode code, const std::string& msg) {
    rec->unrouted->CountStatus(http);
    auto r = ErrorResponse(call.protocol, http, code, msg);
    r.request_id = request_id;
    return r;
  };
  if (Status st = CheckAuth(*table, call.authorization); !st.ok()) {
    return refuse(401, st.code(), st.message());
  }
  Instance* inst = nullptr;
  const bool pinned = !call.deployment.empty();
  if (pinned) {
    auto it = table->ready.find(call.deployment);
    if (it == table->ready.end()) {
      if (table->configured.count(call.deployment)) {
        return refuse(503, ErrorCode::kTemporarilyUnavailable,
                      "deployment '" + std::string(call.deployment) +
                          "' is not ready yet (its model is loading or failed to load)");
      }
      return refuse(404, ErrorCode::kResourceDoesNotExist,
                    "endpoint '" + std::string(call.endpoint) + "' has no deployment '" +
                        std::string(call.deployment) + "'");
    }
    inst = it->second.get();
  } else {
    if (table->wheel.empty()) {
      return refuse(503, ErrorCode::kTemporarilyUnavailable,
                    "endpoint '" + std::string(call.endpoint) +
                        "' has no ready deployment with live traffic (set traffic, or wait for "
                        "the deployment to load)");
    }
    if (table->wheel.size() == 1) {
      inst = table->wheel[0];  // one live deployment: no shared counter to bump
    } else {
      uint64_t n = rec->next_live.fetch_add(1, std::memory_order_relaxed);
      inst = table->wheel[n % table->wheel.size()];
    }
  }
  DeploymentMetrics& m = *inst->metrics;
  m.in_flight.fetch_add(1, std::memory_order_relaxed);
  Outcome o = impl_->Execute(*inst, call.protocol, call.content_type, call.body, t0, true);
  m.in_flight.fetch_sub(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  m.CountStatus(o.status);
  m.latency.Observe(seconds);

  // Mirror: an exact share of live (not pinned) requests, copied after the
  // live answer is ready and scored on the mirror threads.
  if (!pinned && table->mirror) {
    uint64_t n = rec->next_mirror.fetch_add(1, std::memory_order_relaxed);
    const uint64_t p = static_cast<uint64_t>(table->mirror_percent);
    if ((n * p) % 100 < p) impl_->EnqueueMirror(table->mirror, call);
  }

  const DataCollectorSettings& dc = inst->config.data_collector;
  if (dc.enabled && impl_->request_log &&
      (dc.sampling_rate >= 1.0 ||
       static_cast<double>(FastRandom() >> 11) * 0x1.0p-53 < dc.sampling_rate)) {
    RequestLogRecord r;
    r.request_id = request_id;
    r.timestamp = std::chrono::system_clock::now();
    r.endpoint = inst->config.endpoint;
    r.deployment = inst->config.name;
    r.model_name = inst->config.model_name;
    r.model_version = inst->config.model_version;
    r.generation = inst->config.generation;
    r.protocol = ProtocolName(call.protocol);
    r.status = o.status;
    r.latency_ms = seconds * 1000.0;
    r.request_body.assign(call.body);
    r.response_body = o.body;
    if (!inst->runtime->wants_raw() && o.batch.rows > 0) {
      r.columns = inst->column_names;
      r.features = std::move(o.batch.features);
      r.rows = o.batch.rows;
    }
    impl_->request_log->Push(std::move(r), &m);
  }

  ScoreResponse res;
  res.status = o.status;
  res.body = std::move(o.body);
  res.deployment = inst->config.name;
  res.request_id = std::move(request_id);
  return res;
}

namespace {

// The endpoint's routing table for a V2 metadata or readiness request, or
// (null) the 404/401 answer in *error: the V2 model name is the endpoint.
const RoutingTable* V2Table(const RoutingState& state, std::string_view endpoint,
                            std::string_view authorization, ScoreResponse* error) {
  auto entry = state.find(endpoint);
  if (entry == state.end()) {
    *error = ErrorResponse(Protocol::kV2, 404, ErrorCode::kResourceDoesNotExist,
                           "model (endpoint) '" + std::string(endpoint) + "' does not exist");
    return nullptr;
  }
  const RoutingTable* table = entry->second.table.get();
  if (Status st = CheckAuth(*table, authorization); !st.ok()) {
    *error = ErrorResponse(Protocol::kV2, 401, st.code(), st.message());
    return nullptr;
  }
  return table;
}

}  // namespace

ScoreResponse Router::ModelMetadata(std::string_view endpoint, std::string_view deployment,
                                    std::string_view authorization) {
  auto state = impl_->state.Read();
  ScoreResponse error;
  const RoutingTable* table = V2Table(*state, endpoint, authorization, &error);
  if (!table) return error;
  std::string name(deployment.empty() ? std::string_view(table->default_deployment) : deployment);
  auto it = table->ready.find(name);
  if (it == table->ready.end()) {
    bool known = table->configured.count(name) > 0;
    return ErrorResponse(
        Protocol::kV2, known ? 503 : 404,
        known ? ErrorCode::kTemporarilyUnavailable : ErrorCode::kResourceDoesNotExist,
        deployment.empty() ? "endpoint '" + std::string(endpoint) + "' has no ready deployment"
                           : "version (deployment) '" + name + "' is " +
                                 (known ? "not ready" : "not a deployment of this endpoint"));
  }
  const Runtime& rt = *it->second->runtime;
  Json versions = Json::array();
  if (deployment.empty()) {
    for (const auto& [n, _] : table->ready) versions.push_back(n);
  } else {
    versions.push_back(name);
  }
  Json inputs = Json::array();
  for (const auto& c : rt.columns()) {
    inputs.push_back({{"name", c.name}, {"datatype", V2Datatype(c.type)}, {"shape", {-1}}});
  }
  Json body = {{"name", std::string(endpoint)},
               {"versions", versions},
               {"platform", rt.platform()},
               {"inputs", inputs}};
  if (!rt.wants_raw()) {
    body["outputs"] = Json::array({{{"name", "predict"}, {"datatype", "FP32"}, {"shape", {-1}}}});
  }
  ScoreResponse r;
  r.body = body.dump();
  r.deployment = name;
  return r;
}

ScoreResponse Router::ModelReady(std::string_view endpoint, std::string_view deployment,
                                 std::string_view authorization) {
  auto state = impl_->state.Read();
  ScoreResponse error;
  const RoutingTable* table = V2Table(*state, endpoint, authorization, &error);
  if (!table) return error;
  bool ready;
  if (deployment.empty()) {
    ready = !table->wheel.empty();
  } else {
    if (!table->configured.count(deployment)) {
      return ErrorResponse(Protocol::kV2, 404, ErrorCode::kResourceDoesNotExist,
                           "version (deployment) '" + std::string(deployment) +
                               "' is not a deployment of this endpoint");
    }
    ready = table->ready.count(deployment) > 0;
  }
  ScoreResponse r;
  r.status = ready ? 200 : 503;
  Json body = {{"name", std::string(endpoint)}, {"ready", ready}};
  if (!deployment.empty()) body["version"] = std::string(deployment);
  r.body = body.dump();
  return r;
}

bool Router::Ready() const {
  auto state = impl_->state.Read();
  for (const auto& [_, entry] : *state) {
    const auto& rec = entry.record;
    std::lock_guard lk(rec->mu);
    for (const auto& [__, slot] : rec->slots) {
      if (!slot.serving && slot.loading) return false;
    }
  }
  return true;
}

std::string Router::MetricsText() const { return impl_->metrics.Render(); }

bool Router::WaitForLoads(std::chrono::milliseconds timeout) {
  return impl_->WaitForLoads(timeout);
}

void Router::DrainMirror() {
  std::unique_lock lk(impl_->mirror_mu);
  impl_->mirror_idle.wait(lk,
                          [&] { return impl_->mirror_queue.empty() && impl_->mirror_active == 0; });
}

void Router::FlushRequestLog() {
  if (impl_->request_log) impl_->request_log->Flush();
}

}  // namespace cairn::serving
