// serving_bench: the online-serving figures of issue 7, measured against a
// server in a separate process (this binary re-executed with --serve: an
// http::Server with Cairn's scoring routes and a serving::Router, the same
// code `cairn server` runs) by a C++ keep-alive HTTP client, single-row
// requests, an XGBoost binary classifier of 100 trees of depth 6 on 10
// features trained here. Prints:
//   - the in-process floor: XgbBooster::Predict on one row, and the whole
//     data-plane call (parse + route + predict + format) without HTTP;
//   - 1 client: p50/p99 of V2 infer and Azure /score, and of the no-op route
//     (GET /v2/health/live) of the same server;
//   - 16 clients: requests/s of V2 infer vs the no-op route (ratio; the
//     median of three alternating pairs);
//   - routing overhead: an endpoint with a 90/10 split and 10% mirror vs a
//     single-deployment endpoint (1 client p50 difference);
//   - the worker-process runtime with a trivial Python run(): 16 clients req/s.
// Usage: serving_bench [seconds per measurement, default 3]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/scoring_routes.h"
#include "bench_util.h"
#include "ml/xgb_booster.h"
#include "serving/router.h"
#include "serving/synthetic_model.h"
#include "serving/tree_forest.h"

using namespace cairn;
using cairn::bench::Percentile;
using cairn::bench::Steady;
namespace fs = std::filesystem;

namespace {

constexpr int kFeatures = 10;

serving::DeploymentConfig Deployment(const std::string& name, const fs::path& model) {
  serving::DeploymentConfig d;
  d.name = name;
  d.model_dir = model.string();
  d.request.max_concurrent_requests_per_instance = 64;
  return d;
}

// The server process: endpoints "bench" (one deployment), "split" (90/10 +
// 10% mirror) and "script" (a Python scoring script, 2 workers).
int Serve(const fs::path& work, const std::string& port_file) {
  serving::Router router;
  serving::EndpointConfig bench;
  bench.name = "bench";
  bench.primary_key = "k";
  bench.traffic = {{"blue", 100}};
  bench.deployments = {Deployment("blue", work / "model")};
  router.ApplyEndpoint(bench);
  serving::EndpointConfig split = bench;
  split.name = "split";
  split.traffic = {{"blue", 90}, {"green", 10}};
  split.mirror_traffic = {{"shadow", 10}};
  split.deployments = {Deployment("blue", work / "model"), Deployment("green", work / "model"),
                       Deployment("shadow", work / "model")};
  router.ApplyEndpoint(split);
  serving::EndpointConfig script = bench;
  script.name = "script";
  serving::DeploymentConfig s = Deployment("blue", work / "model");
  s.code_dir = (work / "code").string();
  s.scoring_script = "score.py";
  s.python = "/usr/bin/python3";
  s.instance_count = 2;
  s.request.max_concurrent_requests_per_instance = 16;
  script.deployments = {s};
  router.ApplyEndpoint(script);
  if (!router.WaitForLoads(std::chrono::seconds(60))) return 1;
  for (const char* e : {"bench", "split", "script"}) {
    auto st = router.GetDeploymentState(e, "blue");
    if (!st.ready) {
      std::cerr << "deployment " << e << "/blue failed: " << st.error << "\n";
      return 1;
    }
  }
  http::ServerOptions o;
  o.threads = 64;
  http::Server server(o);
  RegisterScoringRoutes(server, router);
  int port = server.Bind("127.0.0.1", 0);
  if (port <= 0) return 1;
  std::ofstream(port_file + ".tmp") << port;
  fs::rename(port_file + ".tmp", port_file);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread stopper([&] {
    int sig;
    sigwait(&set, &sig);
    server.Stop();
  });
  server.Run();
  stopper.join();
  return 0;
}

// A minimal keep-alive HTTP/1.1 client over one connection.
// A closed keep-alive connection (the server may close idle ones when others
// wait for a worker) is reopened and the request sent again, as HTTP clients do.
class Conn {
 public:
  explicit Conn(int port) : port_(port) { Connect(); }
  ~Conn() { ::close(fd_); }

  int RoundTrip(const std::string& request) {
    int st = Once(request);
    if (st == -1) {
      ::close(fd_);
      Connect();
      ++reconnects;
      st = Once(request);
    }
    return st;
  }
  const std::string& body() const { return body_; }
  long reconnects = 0;

 private:
  void Connect() {
    int port = port_;
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      perror("connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  // Sends `request` (complete bytes), returns the status code (-1: closed).
  int Once(const std::string& request) {
    for (size_t off = 0; off < request.size();) {
      ssize_t k = ::send(fd_, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (k <= 0) return -1;
      off += static_cast<size_t>(k);
    }
    buf_.clear();
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return -1;
    }
    int status = std::atoi(buf_.c_str() + 9);
    size_t cl = 0;
    for (size_t p = 0; p < header_end;) {
      size_t e = buf_.find("\r\n", p);
      if (strncasecmp(buf_.c_str() + p, "content-length:", 15) == 0) {
        cl = std::strtoul(buf_.c_str() + p + 15, nullptr, 10);
      }
      p = e + 2;
    }
    while (buf_.size() < header_end + 4 + cl) {
      if (!Fill()) return -1;
    }
    body_ = buf_.substr(header_end + 4, cl);
    return status;
  }

  bool Fill() {
    char tmp[16384];
    ssize_t k = ::recv(fd_, tmp, sizeof tmp, 0);
    if (k <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(k));
    return true;
  }
  int port_;
  int fd_ = -1;
  std::string buf_, body_;
};

std::string Post(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\nContent-Type: "
         "application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string Get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

struct Load {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long errors = 0;
};

// `clients` connections sending `requests[i % n]` back to back for `seconds`.
Load Run(int port, int clients, double seconds, const std::vector<std::string>& requests) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<long> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Conn conn(port);
      auto& mine = lat[static_cast<size_t>(c)];
      mine.reserve(200000);
      for (size_t i = static_cast<size_t>(c); !stop; ++i) {
        auto t0 = Steady::now();
        int st = conn.RoundTrip(requests[i % requests.size()]);
        mine.push_back(bench::Ms(Steady::now() - t0));
        if (st != 200) {
          if (errors++ == 0) std::cerr << "status " << st << ": " << conn.body() << "\n";
        }
      }
    });
  }
  auto t0 = Steady::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Load l;
  l.rps = static_cast<double>(all.size()) / elapsed;
  l.p50_ms = Percentile(all, 0.5);
  l.p99_ms = Percentile(all, 0.99);
  l.errors = errors;
  return l;
}

// 256 synthetic rows, each as comma-separated numbers ("0.123,4.560,...").
std::vector<std::string> RowTexts(unsigned seed) {
  std::vector<float> rows = serving::SyntheticRows(256, kFeatures, seed);
  std::vector<std::string> out;
  for (int r = 0; r < 256; ++r) {
    std::string data;
    for (int c = 0; c < kFeatures; ++c) {
      char num[32];
      std::snprintf(num, sizeof num, "%s%.3f", c ? "," : "",
                    rows[static_cast<size_t>(r * kFeatures + c)]);
      data += num;
    }
    out.push_back(std::move(data));
  }
  return out;
}

std::vector<std::string> V2Requests(const std::string& endpoint) {
  std::vector<std::string> out;
  for (const std::string& data : RowTexts(42)) {
    out.push_back(Post(
        "/v2/models/" + endpoint + "/infer",
        R"({"inputs":[{"name":"x","shape":[1,10],"datatype":"FP32","data":[)" + data + "]}]}"));
  }
  return out;
}

std::vector<std::string> AzureRequests(const std::string& endpoint) {
  std::vector<std::string> out;
  for (const std::string& data : RowTexts(43)) {
    out.push_back(Post("/endpoints/" + endpoint + "/score", "{\"data\":[[" + data + "]]}"));
  }
  return out;
}

void Print(const char* what, const Load& l) {
  std::printf("%-58s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms%s\n", what, l.rps, l.p50_ms, l.p99_ms,
              l.errors ? "  (ERRORS)" : "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--serve") return Serve(argv[2], argv[3]);
  double secs = argc > 1 ? std::atof(argv[1]) : 3.0;
  fs::path work = fs::temp_directory_path() / ("cairn-serving-bench-" + std::to_string(getpid()));
  fs::remove_all(work);
  fs::create_directories(work / "code");
  serving::SyntheticModelOptions mo;  // 100 trees, depth 6, 10 features
  if (Status st = serving::WriteSyntheticXgbModel(work / "model", mo); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  std::ofstream(work / "code" / "score.py") << "def init():\n    pass\n\ndef run(raw_data):\n"
                                               "    return [0.5]\n";

  // The floor: in-process predict of one row.
  auto booster = ml::XgbBooster::LoadFile((work / "model" / "model.json").string());
  std::vector<float> rows = serving::SyntheticRows(1024, kFeatures, 42);
  std::vector<float> out;
  size_t out_cols = 0;
  // Medians of single calls: the machine may be shared, and a mean would
  // mostly measure the neighbours.
  auto predict_ms = bench::TimeCalls(200000, [&](int i) {
    (void)(*booster)->Predict(rows.data() + (i % 1024) * kFeatures, 1, kFeatures, out, out_cols);
  });
  std::printf(
      "# serving_bench — %u cores, XGBoost %s, 100 trees depth 6, 10 features, %.0f s each\n",
      std::thread::hardware_concurrency(), ml::XgbVersion().c_str(), secs);
  std::printf("%-58s %9.2f us p50\n", "floor: in-process XgbBooster::Predict, 1 row",
              Percentile(predict_ms, 0.5) * 1000.0);
  {
    auto json = (*booster)->SaveJson();
    auto forest = serving::TreeForest::FromXgboostJson(*json);
    if (!forest.ok()) {
      std::cerr << forest.status().message() << "\n";
      return 1;
    }
    float p = 0;
    auto forest_ms = bench::TimeCalls(
        200000, [&](int i) { (*forest)->Predict(rows.data() + (i % 1024) * kFeatures, 1, &p); });
    std::printf("%-58s %9.2f us p50\n", "floor: compiled trees (what the runtime uses), 1 row",
                Percentile(forest_ms, 0.5) * 1000.0);
  }
  {
    serving::Router router;
    serving::EndpointConfig e;
    e.name = "bench";
    e.primary_key = "k";
    e.traffic = {{"blue", 100}};
    e.deployments = {Deployment("blue", work / "model")};
    router.ApplyEndpoint(e);
    router.WaitForLoads(std::chrono::seconds(30));
    auto reqs = V2Requests("bench");
    std::vector<std::string> bodies;
    for (auto& r : reqs) bodies.push_back(r.substr(r.find("\r\n\r\n") + 4));
    serving::ScoreCall c;
    c.protocol = serving::Protocol::kV2;
    c.endpoint = "bench";
    c.authorization = "Bearer k";
    int failures = 0;
    auto score_ms = bench::TimeCalls(100000, [&](int i) {
      c.body = bodies[static_cast<size_t>(i) % bodies.size()];
      failures += router.Score(c).status != 200;
    });
    if (failures) return 1;
    std::printf("%-58s %9.2f us p50\n",
                "in-process Router::Score (V2 JSON parse+route+predict+format)",
                Percentile(score_ms, 0.5) * 1000.0);
  }

  // The server, in its own process.
  std::string port_file = (work / "port").string();
  pid_t server = fork();
  if (server == 0) {
    execl("/proc/self/exe", argv[0], "--serve", work.c_str(), port_file.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 1200 && !fs::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!fs::exists(port_file)) {
    std::cerr << "server did not start\n";
    kill(server, SIGTERM);
    return 1;
  }
  int port = 0;
  std::ifstream(port_file) >> port;

  std::vector<std::string> noop = {Get("/v2/health/live")};
  auto v2 = V2Requests("bench");
  auto azure = AzureRequests("bench");
  auto split = V2Requests("split");
  Run(port, 1, 0.5, v2);  // warm-up
  Load noop1 = Run(port, 1, secs, noop);
  Load v21 = Run(port, 1, secs, v2);
  Load az1 = Run(port, 1, secs, azure);
  Load split1 = Run(port, 1, secs, split);
  // The ratio is taken from alternating pairs (no-op, then V2 infer, three
  // times) and the median pair reported, so a burst of load from a neighbour
  // on a shared machine skews one pair, not the figure.
  std::vector<std::pair<Load, Load>> pairs;
  for (int round = 0; round < 3; ++round) {
    Load n = Run(port, 16, secs, noop);
    Load v = Run(port, 16, secs, v2);
    pairs.emplace_back(n, v);
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return a.second.rps / a.first.rps < b.second.rps / b.first.rps;
  });
  const Load noop16 = pairs[1].first;
  const Load v216 = pairs[1].second;
  Load split16 = Run(port, 16, secs, split);
  std::vector<std::string> script = {Post("/endpoints/script/score", R"({"data":[[1,2,3]]})")};
  Load script16 = Run(port, 16, secs, script);
  Load script1 = Run(port, 1, secs, script);
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);

  Print("1 client  no-op route (GET /v2/health/live)", noop1);
  Print("1 client  V2 infer, 1 row", v21);
  Print("1 client  Azure /score, 1 row", az1);
  Print("1 client  V2 infer on split 90/10 + 10% mirror", split1);
  Print("16 clients no-op route (median pair)", noop16);
  Print("16 clients V2 infer, 1 row (median pair)", v216);
  Print("16 clients V2 infer on split 90/10 + 10% mirror", split16);
  Print("1 client  worker runtime (Python run() returns [0.5])", script1);
  Print("16 clients worker runtime, 2 Python workers", script16);
  std::printf("%-58s %9.2f  (pairs: %.2f %.2f %.2f)\n",
              "ratio: 16-client V2 infer / no-op route, median pair", v216.rps / noop16.rps,
              pairs[0].second.rps / pairs[0].first.rps, pairs[1].second.rps / pairs[1].first.rps,
              pairs[2].second.rps / pairs[2].first.rps);
  std::printf("%-58s %9.1f us\n", "routing overhead: split+mirror p50 - single p50 (1 client)",
              (split1.p50_ms - v21.p50_ms) * 1000.0);
  fs::remove_all(work);
  bool errors = noop1.errors || v21.errors || az1.errors || split1.errors || split16.errors ||
                script16.errors || script1.errors;
  for (const auto& [n, v] : pairs) errors = errors || n.errors || v.errors;
  return errors ? 1 : 0;
}
