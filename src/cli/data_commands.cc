#include "cli/data_commands.h"

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
#include "data/stats_io.h"

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
  int64_t budget_mb = 512;  // StatsOptions::exact_budget_bytes in MiB
};

void RunStats(CliContext& ctx, const StatsArgs& args) {
  const bool json = args.json || ctx.json;
  ctx.json = json;  // errors print as JSON too
  if (IsDataRef(args.target)) {
    // A data version's statistics are computed once by the server and stored with it.
    auto stats = FetchDataStats(ctx, args.target);
    if (!stats) return;
    for (auto& f : stats->features) {
      if (f.has_string && f.string.top_k.size() > static_cast<size_t>(args.top_k)) {
        f.string.top_k.resize(args.top_k);
      }
    }
    if (json) return ctx.Emit(data::StatsToJson(*stats));
    std::cout << data::StatsTable(*stats);
    return;
  }
  data::StatsOptions options;
  options.threads = args.threads;
  options.top_k = args.top_k;
  options.exact_budget_values = args.budget;
  options.exact_budget_bytes = args.budget_mb << 20;
  auto stats = ComputeLocalStats(ctx, args.target, options);
  if (!stats) return;
  if (json) return ctx.Emit(data::StatsToJson(*stats));
  std::cout << data::StatsTable(*stats);
}

}  // namespace

bool IsDataRef(const std::string& target) {
  std::error_code ec;
  return !fs::exists(target, ec) &&
         (target.find(':') != std::string::npos || target.find('@') != std::string::npos);
}

std::optional<Json> SendDataRequest(CliContext& ctx, const std::string& route, const Json& body) {
  ApiClient client(ctx.server);
  auto r = client.Post(std::string(kCairnApi) + route, body.dump());
  if (!r.ok()) {
    // Bad input (a malformed table, a folder of several tables, a bad schema) is a usage
    // error; a missing version is a refusal.
    int code = client.unreachable()                                     ? kUnreachable
               : r.status().code() == ErrorCode::kInvalidParameterValue ? kUsage
                                                                        : kRefused;
    ctx.Fail(code, ErrorCodeName(r.status().code()), r.status().message());
    return std::nullopt;
  }
  return Json::parse(*r, nullptr, false);
}

std::optional<data::DatasetStats> FetchDataStats(CliContext& ctx, const std::string& ref) {
  auto r = SendDataRequest(ctx, "data/stats", Json{{"ref", ref}});
  if (!r) return std::nullopt;
  auto stats = r->is_object() && r->contains("stats")
                   ? data::StatsFromJson((*r)["stats"])
                   : Result<data::DatasetStats>(InternalError("the server sent no 'stats'"));
  if (!stats.ok()) {
    ctx.Fail(kRefused, ErrorCodeName(stats.status().code()), stats.status().message());
    return std::nullopt;
  }
  return std::move(*stats);
}

std::optional<data::DatasetStats> ComputeLocalStats(CliContext& ctx, const std::string& file,
                                                    const data::StatsOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    ctx.FailLocal(NotFound(file + ": no such file (give a CSV/JSON Lines/JSON file or a "
                                  "data version as name:version or name@latest)"));
    return std::nullopt;
  }
  auto reader = data::TableReader::Open(file);
  if (!reader.ok()) {
    ctx.FailLocal(reader.status());
    return std::nullopt;
  }
  auto stats = data::ComputeStats(**reader, options);
  if (!stats.ok()) {
    ctx.FailLocal(stats.status());
    return std::nullopt;
  }
  stats->source = file;
  return std::move(*stats);
}

void AddDataStatsCommand(CLI::App* data, CliContext& ctx) {
  static StatsArgs args;  // CLI11 keeps pointers into it while the app parses
  auto* stats =
      data->add_subcommand("stats",
                           "per-feature statistics of a table file (computed locally) or a data "
                           "version (computed once by the server and stored with it)");
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
  AddDataValidationCommands(data, ctx);
  AddDataCompareCommand(data, ctx);  // data_compare_command.cc
}

}  // namespace cairn
