// Model registry benchmark: fills a workspace with MODELS registered models of
// VERSIONS versions each, written through the store from several threads (so
// group commit batches them), then times searches through RegistryService (filter
// parsing, SQL, loading each page's entities) in-process. Each figure is printed
// next to a point lookup (registered-models/get of one model) measured in the
// same run, so results from different machines compare as ratios.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "bench_util.h"
#include "registry/registry_service.h"
#include "store/sqlite/sqlite_registry_store.h"
#include "store/sqlite/sqlite_store.h"

using namespace cairn;
using bench::Ms;
using bench::Percentile;
using bench::Steady;

namespace {

void Report(const char* what, const std::vector<double>& v, const std::vector<double>& base) {
  double p50 = Percentile(v, 0.5), b50 = Percentile(base, 0.5);
  std::printf("%-46s p50 %8.3f ms  p95 %8.3f ms  | get p50 %.3f ms  ratio %.1fx\n", what, p50,
              Percentile(v, 0.95), b50, p50 / b50);
}

std::string ModelName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "model-%05d", i);
  return buf;
}

template <typename T>
const T& Must(const Result<T>& r) {
  if (!r.ok()) {
    std::cerr << r.status().ToString() << "\n";
    std::abort();
  }
  return *r;
}

int RunBenchmark(const std::string& workspace, int models, int versions, int iterations) {
  std::filesystem::create_directories(workspace + "/artifacts");
  auto store = sqlite::SqliteStore::Open(workspace + "/cairn.db", StoreOptions{});
  auto artifacts = OpenLocalArtifactStore(workspace + "/artifacts");
  if (!store.ok() || !artifacts.ok()) {
    std::cerr << store.status().ToString() << artifacts.status().ToString() << "\n";
    return 1;
  }
  sqlite::SqliteRegistryStore registry(**store);
  RegistryService service(registry, **store, **artifacts);

  auto t0 = Steady::now();
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < models;) {
        std::string name = ModelName(i);
        Must(registry.CreateRegisteredModel(name, "", {{"team", "t" + std::to_string(i % 20)}}));
        for (int v = 0; v < versions; ++v) {
          NewModelVersion nv;
          nv.name = name;
          nv.source = "runs:/r" + std::to_string(i) + "/model";
          nv.storage_location = "mlflow-artifacts:/0/r" + std::to_string(i) + "/artifacts/model";
          nv.run_id = "r" + std::to_string(i);
          Must(registry.CreateModelVersion(nv));
        }
        if (i % 2000 == 0) std::fprintf(stderr, "populate: %d/%d models\n", i, models);
      }
    });
  }
  for (auto& th : pool) th.join();
  std::printf("populated %d registered models x %d versions in %.1f s\n", models, versions,
              Ms(Steady::now() - t0) / 1000);

  auto base = bench::TimeCalls(iterations * 4, [&](int i) {
    Must(service.GetRegisteredModel(ModelName((i * 7919) % models)));
  });
  size_t got = 0;
  auto lat = bench::TimeCalls(iterations, [&](int i) {
    SearchRequest req;
    req.filter = "name LIKE 'model-0" + std::to_string(i % 10) + "%'";
    req.order_by = {"last_updated_timestamp DESC"};
    got = Must(service.SearchRegisteredModels(req)).items.size();
  });
  Report("registered-models/search LIKE prefix + order", lat, base);
  std::printf("  (returned %zu models per page, each with its latest versions)\n", got);
  lat = bench::TimeCalls(iterations, [&](int i) {
    SearchRequest req;
    req.filter = "name ILIKE '%" + std::to_string(100 + i % 800) + "%'";
    req.order_by = {"name DESC"};
    got = Must(service.SearchRegisteredModels(req)).items.size();
  });
  Report("registered-models/search ILIKE %x% + order", lat, base);
  std::printf("  (returned %zu models per page)\n", got);
  lat = bench::TimeCalls(iterations, [&](int i) {
    SearchRequest req;
    req.filter = "name = '" + ModelName((i * 104729) % models) + "'";
    req.order_by = {"version_number DESC"};
    got = Must(service.SearchModelVersions(req)).items.size();
  });
  Report("model-versions/search name = + order", lat, base);
  std::printf("  (returned %zu versions per page)\n", got);
  lat = bench::TimeCalls(iterations, [&](int i) {
    SearchRequest req;
    req.filter = "run_id = 'r" + std::to_string((i * 104729) % models) + "'";
    got = Must(service.SearchModelVersions(req)).items.size();
  });
  Report("model-versions/search run_id =", lat, base);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty()) {
    std::cerr << "usage: registry_bench WORKSPACE [MODELS=10000] [VERSIONS=10] [ITERATIONS=50]\n";
    return 2;
  }
  return RunBenchmark(a[0], a.size() > 1 ? std::stoi(a[1]) : 10000,
                      a.size() > 2 ? std::stoi(a[2]) : 10, a.size() > 3 ? std::stoi(a[3]) : 50);
}
