// CLI commands for versioned assets: `cairn data`, `cairn code`, `cairn
// environment`, `cairn datastore` and `cairn lineage`. Local files are hashed
// here (with a hash cache), only blobs the server lacks are uploaded, then the
// version is registered by its manifest.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "assets/manifest.h"
#include "core/status.h"

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddAssetCommands(CLI::App& app, CliContext& ctx);

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

}  // namespace cairn
