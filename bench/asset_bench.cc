// Asset benchmarks that need more than a shell loop: populating a lineage graph
// of N edges through the asset store, and lineage-query latency over HTTP next
// to the server's /health baseline measured in the same run.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_store.h"

using namespace cairn;
using bench::Ms;
using bench::Percentile;
using bench::Steady;

namespace {

// The graph of a busy workspace: `runs` runs, each consuming 3 of 1,000 data
// versions, one of 200 code snapshots and one of 20 environments (5 edges per
// run), so each data version feeds about 15 runs per 1,000 runs.
int Populate(const std::string& workspace, int edges) {
  std::filesystem::create_directories(workspace);
  StoreOptions options;
  auto store = sqlite::SqliteStore::Open(workspace + "/cairn.db", options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  sqlite::SqliteAssetStore assets(**store);
  for (int d = 0; d < 1000; ++d) {
    AssetVersion a;
    a.kind = kDataAsset;
    a.name = "d" + std::to_string(d);
    a.version = "1";
    a.type = "uri_file";
    a.content_hash = std::string(64, 'a');
    a.spec = "{}";
    if (auto st = assets.CreateAssetVersion(a); !st.ok()) return 1;
  }
  int runs = edges / 5;
  std::vector<LineageEdge> batch;
  uint64_t x = 88172645463325252ull;  // xorshift: the same graph every time
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int r = 0; r < runs; ++r) {
    std::string run = "run:" + std::to_string(100000000 + r);
    for (int k = 0; k < 3; ++k) {
      batch.push_back({"data:d" + std::to_string(next() % 1000) + ":1", run, "input", 0});
    }
    batch.push_back({"code:" + std::to_string(next() % 200), run, "input", 0});
    batch.push_back({"environment:env" + std::to_string(next() % 20) + ":1", run, "input", 0});
    if (batch.size() >= 5000) {
      if (!assets.AddLineageEdges(batch).ok()) return 1;
      batch.clear();
    }
  }
  if (!batch.empty() && !assets.AddLineageEdges(batch).ok()) return 1;
  std::printf("populated %d lineage edges (%d runs, 1000 data versions)\n", runs * 5, runs);
  return 0;
}

int Query(int port, int n) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  auto time = [&](auto fn) { return bench::TimeCalls(n, fn); };
  auto base = time([&](int) { c.Get("/health"); });
  size_t edges_seen = 0;
  auto impact = time([&](int i) {
    auto r = c.Get("/api/2.0/cairn/lineage/show?direction=downstream&depth=3&entity=data:d" +
                   std::to_string(i * 7 % 1000) + ":1");
    if (!r || r->status != 200) std::abort();
    edges_seen += static_cast<size_t>(std::count(r->body.begin(), r->body.end(), '{'));
  });
  auto both = time([&](int i) {
    auto r = c.Get("/api/2.0/cairn/lineage/show?direction=both&depth=2&entity=data:d" +
                   std::to_string(i * 13 % 1000) + ":1");
    if (!r || r->status != 200) std::abort();
  });
  double b50 = Percentile(base, 0.5);
  auto report = [&](const char* what, const std::vector<double>& v) {
    std::printf("%-44s p50 %7.3f ms  p95 %7.3f ms  | /health p50 %.3f ms  ratio %.1fx\n", what,
                Percentile(v, 0.5), Percentile(v, 0.95), b50, Percentile(v, 0.5) / b50);
  };
  report("lineage impact (downstream, depth 3)", impact);
  report("lineage both ways (depth 2, 2 hops out+in)", both);
  std::printf("  (about %zu edges per impact answer)\n", edges_seen / static_cast<size_t>(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "populate" && argc == 4) return Populate(argv[2], std::stoi(argv[3]));
  if (mode == "query" && argc == 3) return Query(std::stoi(argv[2]), 200);
  std::fprintf(stderr, "usage: asset_bench populate WORKSPACE EDGES | query PORT\n");
  return 2;
}
