// Resolving a table argument of the data commands: a local file or a downloaded data version.
#include "cli/data_ref.h"

#include <unistd.h>

#include <atomic>
#include <vector>

#include "cli/api_client.h"
#include "cli/cli_context.h"
#include "cli/data_commands.h"
#include "core/status.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

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
                                            const fs::path& dir, const std::string& command,
                                            std::string* described) {
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
    ctx.FailLocal(InvalidParameter(
        "data " + *described + " holds " + std::to_string(tables.size()) +
        " table files (.csv .tsv .txt .jsonl .ndjson .json, optionally .gz); `cairn data " +
        command + "` of a data version needs exactly one: download it and give a file"));
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

}  // namespace

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("cairn-data-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
  std::error_code ec;
  fs::remove_all(path_, ec);
  fs::create_directories(path_, ec);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::optional<ResolvedTable> ResolveTable(CliContext& ctx, const std::string& target,
                                          std::optional<TempDir>* temp,
                                          const std::string& command) {
  ResolvedTable out{target, target};
  std::error_code ec;
  if (IsDataRef(target)) {
    temp->emplace();
    auto downloaded = DownloadDataVersion(ctx, target, (*temp)->path(), command, &out.source);
    if (!downloaded) return std::nullopt;
    out.file = *downloaded;
    return out;
  }
  if (!fs::is_regular_file(out.file, ec)) {
    ctx.FailLocal(NotFound(target + ": no such file (give a CSV/JSON Lines/JSON file or a "
                                    "data version as name:version or name@latest)"));
    return std::nullopt;
  }
  return out;
}

}  // namespace cairn
