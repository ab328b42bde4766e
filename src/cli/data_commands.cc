#include "cli/data_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/cli_context.h"
#include "core/fs.h"
#include "data/stats.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct StatsArgs {
  std::string target;
  bool json = false;
  int threads = 2;
  int top_k = 20;
  int64_t budget = 10'000'000;
  int64_t budget_mb = 256;  // StatsOptions::exact_budget_bytes in MiB
};

// A temporary folder removed when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("cairn-stats-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::create_directories(path_, ec);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool IsTableFile(const std::string& name) {
  std::string n = name;
  if (n.size() > 3 && n.compare(n.size() - 3, 3, ".gz") == 0) n.resize(n.size() - 3);
  for (const char* ext : {".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"}) {
    const std::string e = ext;
    if (n.size() > e.size() && n.compare(n.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// Downloads the single table file of a data version ("name:version" or
// "name@latest"); sets *described to the canonical "name:version". On
// failure prints the error, sets the exit code and returns nullopt.
std::optional<fs::path> DownloadDataVersion(CliContext& ctx, const std::string& ref,
                                            const fs::path& dir, std::string* described) {
  auto r = ctx.Send("GET", std::string(kCairnApi) + "data/files", Json{{"ref", ref}});
  if (!r) return std::nullopt;
  const Json& asset = (*r)["asset"];
  *described = asset["name"].get<std::string>() + ":" + asset["version"].get<std::string>();
  std::vector<std::string> tables;
  for (const auto& f : (*r)["files"]) {
    std::string path = f["path"].get<std::string>();
    if (IsTableFile(path)) tables.push_back(path);
  }
  if (tables.size() != 1) {
    ctx.FailLocal(
        InvalidParameter("data " + *described + " holds " + std::to_string(tables.size()) +
                         " table files (.csv .tsv .txt .jsonl .ndjson .json, optionally .gz); "
                         "statistics of a data version need exactly one: download it and "
                         "run `cairn data stats FILE` on a file"));
    return std::nullopt;
  }
  // Only the base name is used locally, so a server path cannot point outside `dir`.
  fs::path target = dir / fs::path(tables[0]).filename();
  ApiClient client(ctx.server);
  Status st = client.Download(std::string(kCairnApi) + "data/download",
                              {{"ref", *described}, {"path", tables[0]}}, target.string());
  if (!st.ok()) {
    ctx.Fail(client.unreachable() ? kUnreachable : kRefused, ErrorCodeName(st.code()),
             st.message());
    return std::nullopt;
  }
  return target;
}

void RunStats(CliContext& ctx, const StatsArgs& args) {
  const bool json = args.json || ctx.json;
  ctx.json = json;  // errors print as JSON too
  fs::path file = args.target;
  std::string source = args.target;
  std::optional<TempDir> temp;
  std::error_code ec;
  // An existing path is a file; otherwise name:version or name@latest names a data version.
  if (!fs::exists(file, ec) &&
      (args.target.find(':') != std::string::npos || args.target.find('@') != std::string::npos)) {
    temp.emplace();
    auto downloaded = DownloadDataVersion(ctx, args.target, temp->path(), &source);
    if (!downloaded) return;
    file = *downloaded;
  } else if (!fs::is_regular_file(file, ec)) {
    ctx.FailLocal(NotFound(args.target + ": no such file (give a CSV/JSON Lines/JSON file or a "
                                         "data version as name:version or name@latest)"));
    return;
  }
  auto reader = data::TableReader::Open(file);
  if (!reader.ok()) return ctx.FailLocal(reader.status());
  data::StatsOptions options;
  options.threads = args.threads;
  options.top_k = args.top_k;
  options.exact_budget_values = args.budget;
  options.exact_budget_bytes = args.budget_mb << 20;
  auto stats = data::ComputeStats(**reader, options);
  if (!stats.ok()) return ctx.FailLocal(stats.status());
  stats->source = source;
  if (json) return ctx.Emit(data::StatsToJson(*stats));
  std::cout << data::StatsTable(*stats);
}

}  // namespace

void AddDataStatsCommand(CLI::App* data, CliContext& ctx) {
  static StatsArgs args;  // CLI11 keeps pointers into it while the app parses
  auto* stats = data->add_subcommand(
      "stats", "per-feature statistics of a table file or a data version (computed locally)");
  stats
      ->add_option("target", args.target,
                   "CSV / JSON Lines / JSON file, or a data version name:version or name@latest")
      ->required();
  stats->add_flag("--json", args.json, "print the statistics as JSON (format cairn.stats/1)");
  stats->add_option("--threads", args.threads, "worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  stats->add_option("--top-k", args.top_k, "most frequent values shown per string feature")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  stats
      ->add_option("--exact-budget", args.budget,
                   "values per column kept for exact statistics; sketches beyond")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  stats
      ->add_option("--exact-budget-mb", args.budget_mb,
                   "memory (MiB, all columns) kept for exact statistics; the largest columns "
                   "switch to sketches beyond it")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  stats->callback([&ctx] { RunStats(ctx, args); });
}

}  // namespace cairn
