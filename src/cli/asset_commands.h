// CLI commands for versioned assets: `cairn data`, `cairn code`, `cairn
// environment`, `cairn datastore` and `cairn lineage`. Local files are hashed
// here (with a hash cache), only blobs the server lacks are uploaded, then the
// version is registered by its manifest.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "assets/manifest.h"
#include "core/status.h"

namespace YAML {
class Node;
struct Mark;
}  // namespace YAML

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddAssetCommands(CLI::App& app, CliContext& ctx);

// `cairn KIND archive|restore NAME:VERSION` for any versioned asset kind
// (data, environment, component...): POST KIND/archive or KIND/restore.
void SetAssetArchived(CliContext& ctx, const std::string& kind, const std::string& ref,
                      bool archived);

// Shared with the other upload commands (`cairn model create --path`).
struct LocalFile {
  std::string path;  // in the asset
  std::filesystem::path source;
  int64_t size = 0;
};
// The files under a local path: the file itself, or a folder's files honouring
// .gitignore/.amlignore/.cairnignore (as Azure ML's upload does).
Result<std::vector<LocalFile>> CollectLocalFiles(const std::filesystem::path& path, bool* is_file);
// Hashes the files (hash-cached), uploads only the blobs the server lacks and
// returns the manifest to register.
Result<std::vector<ManifestFile>> UploadFiles(CliContext& ctx, const std::vector<LocalFile>& files);
nlohmann::json ManifestJson(const std::vector<ManifestFile>& files);
// Snapshots a local folder as a code asset (uploading only missing blobs) and
// returns the server's answer ({"asset": {..., "content_hash"}, "created"}),
// or nullopt after reporting the failure on `ctx`. Shared by `cairn code
// snapshot` and `cairn deployment create` (code_configuration.code).
std::optional<nlohmann::json> SnapshotCode(CliContext& ctx, const std::string& dir);
// The body of POST code/create for a local folder (its files uploaded, git
// state read). Shared by `code snapshot` and `job create`.
Result<nlohmann::json> CodeSnapshotArgs(CliContext& ctx, const std::string& dir);
// Uploads a local file or folder and fills `files`, `source` and (unless set)
// `type` of a POST data/create body. Shared by `data create` and `job create`.
Status AddLocalDataFiles(CliContext& ctx, const std::string& path, nlohmann::json& args);

// The fields Azure ML's data and model YAML share: name, version, type, path,
// description, tags ($schema ignored). Errors name file:line:column; `what`
// ("data asset", "model") words them. `path` is returned as written.
struct AssetYaml {
  std::string name, version, type, path, description;
  std::map<std::string, std::string> tags;
};
Result<AssetYaml> LoadAssetYaml(const std::string& file, const std::string& what);
// A YAML file whose root must be a mapping ("<file>: expected a mapping of
// <what> fields" otherwise); syntax errors name file:line:column. Shared by the
// asset, model and endpoint commands (callers include yaml-cpp themselves).
Result<YAML::Node> LoadYamlMap(const std::string& file, const std::string& what);
// "<file>:<line>:<column>: <what>" as INVALID_PARAMETER_VALUE.
Status YamlError(const std::string& file, const YAML::Mark& mark, const std::string& what);

// $USER, recorded as who created or changed something ("" when unset).
std::string UserName();

}  // namespace cairn
