// Tracking benchmarks that wrk cannot express: populating a large workspace
// through the store, search latency, log-batch latency and server start time.
// Every figure is printed next to a baseline measured in the same run (the
// server's /health route, or the start time of an empty workspace), so results
// from different machines compare as ratios.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "store/sqlite/sqlite_store.h"

using namespace cairn;
using bench::Ms;
using bench::Percentile;
using bench::Steady;
using Json = nlohmann::json;

namespace {

// Times `n` calls of `fn` and returns their latencies in milliseconds.
template <typename F>
std::vector<double> Time(int n, F fn) {
  return bench::TimeCalls(n, [&](int) { fn(); });
}

void Report(const char* what, const std::vector<double>& v, const std::vector<double>& base) {
  double p50 = Percentile(v, 0.5), b50 = Percentile(base, 0.5);
  std::printf("%-34s p50 %8.3f ms  p95 %8.3f ms  | /health p50 %.3f ms  ratio %.1fx\n", what, p50,
              Percentile(v, 0.95), b50, p50 / b50);
}

// Fills a workspace with `runs` runs of 10 params and 10 metrics each, written
// through the store from several threads so group commit batches them.
int Populate(const std::string& workspace, int runs) {
  std::filesystem::create_directories(workspace + "/artifacts");
  StoreOptions options;
  auto store = sqlite::SqliteStore::Open(workspace + "/cairn.db", options);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  auto exp = (*store)->CreateExperiment("bench", "", {});
  if (!exp.ok()) {
    std::cerr << exp.status().ToString() << "\n";
    return 1;
  }
  auto t0 = Steady::now();
  const int threads = 8;
  std::vector<std::thread> pool;
  std::atomic<int> next{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919);
      std::uniform_real_distribution<double> u(0, 1);
      for (int i; (i = next++) < runs;) {
        NewRun nr;
        nr.experiment_id = *exp;
        nr.start_time = 1700000000000 + i;
        auto run = (*store)->CreateRun(nr);
        if (!run.ok()) std::abort();
        std::vector<Metric> metrics;
        std::vector<Param> params;
        for (int k = 0; k < 10; ++k) {
          metrics.push_back({"m" + std::to_string(k), u(rng), 1700000000000 + i, 0});
          params.push_back({"p" + std::to_string(k), std::to_string(i % (k + 3))});
        }
        if (!(*store)->LogBatch(run->info.run_id, metrics, params, {}).ok()) std::abort();
        if (i % 10000 == 0) std::fprintf(stderr, "populate: %d/%d runs\n", i, runs);
      }
    });
  }
  for (auto& th : pool) th.join();
  std::printf("populated %d runs (10 params, 10 metrics each) in experiment %s in %.1f s\n", runs,
              exp->c_str(), Ms(Steady::now() - t0) / 1000);
  return 0;
}

int Search(const std::string& host, int port, const std::string& experiment, int iterations) {
  httplib::Client c(host, port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  auto base = Time(iterations * 4, [&] { c.Get("/health"); });
  Json body = {{"experiment_ids", {experiment}},
               {"filter", "metrics.m1 > 0.5"},
               {"order_by", {"metrics.m2 DESC"}},
               {"max_results", 100}};
  std::string text = body.dump();
  size_t got = 0;
  auto lat = Time(iterations, [&] {
    auto r = c.Post("/api/2.0/mlflow/runs/search", text, "application/json");
    if (!r || r->status != 200) std::abort();
    got = Json::parse(r->body)["runs"].size();
  });
  Report("runs/search filter+order, 100/page", lat, base);
  std::printf("  (returned %zu runs per page)\n", got);
  Json by_param = {{"experiment_ids", {experiment}},
                   {"filter", "params.p3 = '2' AND metrics.m4 < 0.3"},
                   {"order_by", {"params.p5 ASC"}},
                   {"max_results", 100}};
  text = by_param.dump();
  lat = Time(iterations, [&] {
    auto r = c.Post("/api/2.0/mlflow/runs/search", text, "application/json");
    if (!r || r->status != 200) std::abort();
  });
  Report("runs/search param+metric filter", lat, base);
  return 0;
}

int Batch(const std::string& host, int port, int iterations) {
  httplib::Client c(host, port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  auto base = Time(iterations * 4, [&] { c.Get("/health"); });
  auto r = c.Post("/api/2.0/mlflow/runs/create", R"({"experiment_id":"0"})", "application/json");
  std::string run_id = Json::parse(r->body)["run"]["info"]["run_id"];
  int step = 0;
  std::vector<double> server_side;
  auto lat = Time(iterations, [&] {
    Json metrics = Json::array();
    for (int k = 0; k < 1000; ++k) {
      metrics.push_back({{"key", "m" + std::to_string(k % 50)},
                         {"value", k * 0.5},
                         {"timestamp", 1700000000000 + step},
                         {"step", step}});
      ++step;
    }
    std::string text = Json{{"run_id", run_id}, {"metrics", metrics}}.dump();
    auto res = c.Post("/api/2.0/mlflow/runs/log-batch", text, "application/json");
    if (!res || res->status != 200) std::abort();
    // "app;dur=<ms>" from the server's Server-Timing header.
    std::string timing = res->get_header_value("Server-Timing");
    server_side.push_back(std::stod(timing.substr(timing.find("dur=") + 4)));
  });
  Report("log-batch of 1,000 metrics (client)", lat, base);
  Report("log-batch of 1,000 metrics (server)", server_side, base);
  return 0;
}

// Starts `bin server` on `workspace`, returns ms until /health answers.
double StartOnce(const std::string& bin, const std::string& workspace, int port) {
  auto t0 = Steady::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    std::string p = std::to_string(port);
    execl(bin.c_str(), bin.c_str(), "server", "--workspace", workspace.c_str(), "--port", p.c_str(),
          nullptr);
    _exit(127);
  }
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(0, 2000);
  double ms = -1;
  while (Ms(Steady::now() - t0) < 10000) {
    auto r = c.Get("/health");
    if (r && r->status == 200) {
      ms = Ms(Steady::now() - t0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return ms;
}

int Startup(const std::string& bin, const std::string& workspace, const std::string& empty,
            int port) {
  std::vector<double> base, lat;
  for (int i = 0; i < 5; ++i) {
    base.push_back(StartOnce(bin, empty, port));
    lat.push_back(StartOnce(bin, workspace, port));
  }
  double p50 = Percentile(lat, 0.5), b50 = Percentile(base, 0.5);
  std::printf(
      "server start to first /health      p50 %8.1f ms (full workspace) | empty workspace "
      "%.1f ms  ratio %.2fx\n",
      p50, b50, p50 / b50);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "populate")
    return Populate(a[1], a.size() > 2 ? std::stoi(a[2]) : 100000);
  if (a.size() >= 3 && a[0] == "search") return Search("127.0.0.1", std::stoi(a[1]), a[2], 50);
  if (a.size() >= 2 && a[0] == "batch") return Batch("127.0.0.1", std::stoi(a[1]), 50);
  if (a.size() >= 5 && a[0] == "startup") return Startup(a[1], a[2], a[3], std::stoi(a[4]));
  std::cerr << "usage: tracking_bench populate WORKSPACE [RUNS]\n"
               "       tracking_bench search PORT EXPERIMENT_ID\n"
               "       tracking_bench batch PORT\n"
               "       tracking_bench startup CAIRN_BIN FULL_WORKSPACE EMPTY_WORKSPACE PORT\n";
  return 2;
}
