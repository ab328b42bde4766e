// Data reader benchmark: generates a CSV of 10 numeric and 5 categorical
// columns of a given size, then reports MB/s of reading it with TableReader
// plus type inference, next to a raw read() of the same file in the same run
// (the page-cache ceiling). Usage: data_bench [MB=1024] [path] [stats];
// MB 0 reads an existing file at `path` and keeps it. The `stats` mode
// reports ComputeStats (per-feature statistics) on 1 and 2 worker threads
// instead of type inference. `data_bench gen MB PATH` only writes the file
// (for bench/data_stats_bench.sh).
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "bench_util.h"
#include "data/stats.h"
#include "data/table_reader.h"
#include "data/type_inference.h"

using namespace cairn;
using bench::Ms;
using bench::Steady;

namespace {

void Generate(const std::string& path, size_t bytes) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    std::perror(path.c_str());
    std::exit(1);
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  std::fputs("i0,i1,i2,i3,i4,f0,f1,f2,f3,f4,city,color,plan,device,status\n", out);
  const char* cities[] = {"Berlin", "Paris", "Lisbon", "New York", "Tokyo", "Nairobi", "Lima"};
  const char* colors[] = {"red", "green", "blue", "black"};
  const char* plans[] = {"free", "pro", "team", "enterprise"};
  const char* devices[] = {"ios", "android", "web"};
  const char* statuses[] = {"active", "churned", "trial", "NA"};
  std::mt19937_64 rng(42);
  size_t written = 0;
  char line[512];
  while (written < bytes) {
    uint64_t r = rng();
    int n = std::snprintf(
        line, sizeof line, "%llu,%d,%llu,%d,%llu,%.4f,%.6g,%.2f,%.3f,%.5f,%s,%s,%s,%s,%s\n",
        static_cast<unsigned long long>(r % 100000), static_cast<int>(r % 7) - 3,
        static_cast<unsigned long long>(r >> 20), static_cast<int>((r >> 8) % 2),
        static_cast<unsigned long long>((r >> 3) % 1000000007ULL),
        static_cast<double>(r % 1000003) / 1000.0, static_cast<double>(r >> 11) * 1e-9,
        static_cast<double>(r % 5000) - 2500.0, static_cast<double>((r >> 5) % 100000) / 7.0,
        static_cast<double>((r >> 13) % 1000) / 3.0, cities[r % 7], colors[(r >> 7) % 4],
        plans[(r >> 9) % 4], devices[(r >> 11) % 3], statuses[(r >> 15) % 4]);
    std::fwrite(line, 1, static_cast<size_t>(n), out);
    written += static_cast<size_t>(n);
  }
  std::fclose(out);
}

double RawReadSeconds(const std::string& path) {
  auto t0 = Steady::now();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::unique_ptr<char[]> block(new char[4 << 20]);
  while (::read(fd, block.get(), 4 << 20) > 0) {
  }
  ::close(fd);
  return Ms(Steady::now() - t0) / 1000.0;
}

// Reading on this thread, inference on another: chunks move between them
// through a small queue and come back empty for reuse.
double PipelinedSeconds(const std::string& path) {
  auto t0 = Steady::now();
  auto reader = data::TableReader::Open(path);
  if (!reader.ok()) return -1;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<data::RowChunk> full, empty;
  for (int i = 0; i < 3; ++i) empty.emplace_back();
  bool done = false;
  std::vector<data::ColumnTypeInferrer> inferrers((*reader)->columns().size());
  std::thread worker([&] {
    for (;;) {
      data::RowChunk chunk;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !full.empty() || done; });
        if (full.empty()) return;
        chunk = std::move(full.front());
        full.pop_front();
      }
      for (size_t c = 0; c < inferrers.size(); ++c) inferrers[c].AddColumn(chunk, c);
      std::lock_guard<std::mutex> lock(mu);
      empty.push_back(std::move(chunk));
      cv.notify_all();
    }
  });
  for (;;) {
    data::RowChunk chunk;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !empty.empty(); });
      chunk = std::move(empty.front());
      empty.pop_front();
    }
    auto more = (*reader)->Next(&chunk);
    std::lock_guard<std::mutex> lock(mu);
    if (!more.ok() || !*more) {
      done = true;
      cv.notify_all();
      break;
    }
    full.push_back(std::move(chunk));
    cv.notify_all();
  }
  worker.join();
  return Ms(Steady::now() - t0) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "gen") {
    Generate(argv[3], std::strtoull(argv[2], nullptr, 10) << 20);
    return 0;
  }
  size_t mb = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  std::string path = argc > 2 ? argv[2] : "/tmp/cairn_data_bench.csv";
  const bool generate = mb > 0;  // 0: reuse the file at `path` and keep it
  if (generate) Generate(path, mb << 20);
  const double size_mb = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
  RawReadSeconds(path);  // warm the page cache so both runs read from memory
  const double raw = RawReadSeconds(path);

  // Parsing alone, to show what inference adds.
  auto t_read = Steady::now();
  {
    auto reader = data::TableReader::Open(path);
    data::RowChunk chunk;
    while (reader.ok() && (*reader)->Next(&chunk).value()) {
    }
  }
  const double read_only = Ms(Steady::now() - t_read) / 1000.0;

  if (argc > 3 && std::string(argv[3]) == "stats") {
    std::printf("file: %s, %.0f MB, 15 columns\n", path.c_str(), size_mb);
    std::printf("raw read():               %7.0f MB/s (%.2f s)\n", size_mb / raw, raw);
    std::printf("read (CSV parse) only:    %7.0f MB/s (%.2f s, one thread)\n", size_mb / read_only,
                read_only);
    for (int threads : {1, 2}) {
      auto t_stats = Steady::now();
      auto reader = data::TableReader::Open(path);
      if (!reader.ok()) {
        std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
        return 1;
      }
      data::StatsOptions options;
      options.threads = threads;
      auto stats = data::ComputeStats(**reader, options);
      if (!stats.ok()) {
        std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
        return 1;
      }
      const double seconds = Ms(Steady::now() - t_stats) / 1000.0;
      std::printf(
          "read + stats:             %7.0f MB/s (%.2f s, reader + %d worker thread(s), %s)\n",
          size_mb / seconds, seconds, threads, stats->exact ? "exact" : "sketched");
    }
    if (generate) std::filesystem::remove(path);
    return 0;
  }

  auto t0 = Steady::now();
  auto reader = data::TableReader::Open(path);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 1;
  }
  auto types = data::InferColumnTypes(**reader);
  if (!types.ok()) {
    std::fprintf(stderr, "%s\n", types.status().ToString().c_str());
    return 1;
  }
  const double parsed = Ms(Steady::now() - t0) / 1000.0;

  const double pipelined = PipelinedSeconds(path);

  int64_t rows = (*types)[0].values + (*types)[0].nulls;
  std::printf("file: %s, %.0f MB, %lld rows, 15 columns\n", path.c_str(), size_mb,
              static_cast<long long>(rows));
  std::printf("raw read():               %7.0f MB/s (%.2f s)\n", size_mb / raw, raw);
  std::printf("read (CSV parse) only:     %7.0f MB/s (%.2f s, one thread)\n", size_mb / read_only,
              read_only);
  std::printf("read + type inference:    %7.0f MB/s (%.2f s, one thread)\n", size_mb / parsed,
              parsed);
  std::printf("read + type inference:    %7.0f MB/s (%.2f s, reader and inference threads)\n",
              size_mb / pipelined, pipelined);
  std::printf("types:");
  for (size_t i = 0; i < types->size(); ++i) {
    std::printf(" %s=%s", (*reader)->columns()[i].c_str(), data::ColumnTypeName((*types)[i].type));
  }
  std::printf("\n");
  if (generate) std::filesystem::remove(path);
  return 0;
}
