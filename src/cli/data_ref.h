// Resolving a CLI argument that names a table: a local file, or a data version (name:version
// or name@latest) whose single table file is downloaded to a temporary folder. Shared by
// `cairn data stats` and `cairn data compare`. Included by src/cli/*.cc only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace cairn {

struct CliContext;

// A temporary folder (unique per instance) removed when it goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ResolvedTable {
  std::filesystem::path file;  // local path to read
  std::string source;          // the file as given, or the canonical "name:version"
};

// An existing path is a file; otherwise a target with ':' or '@' names a data version, whose
// single table file is downloaded into `*temp` (created here; keep it alive while the file is
// read). `command` names the subcommand in error messages ("stats", "compare"). On failure
// prints the error, sets the exit code and returns nullopt.
std::optional<ResolvedTable> ResolveTable(CliContext& ctx, const std::string& target,
                                          std::optional<TempDir>* temp, const std::string& command);

}  // namespace cairn
