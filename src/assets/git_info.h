// Git provenance of a source directory (commit, branch, remote, dirty flag),
// read with libgit2 so no git binary is needed. Safe from any thread: each
// call opens its own repository handle.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

struct GitInfo {
  std::filesystem::path workdir;  // top of the work tree containing the directory
  std::string commit;             // 40 hex chars; empty on an unborn branch
  std::string branch;             // short name ("main"); empty when HEAD is detached
  std::string remote_url;         // "origin", else the first remote; no credentials
  bool dirty = false;             // modified, staged or untracked-not-ignored files
};

// Searches upward from `dir` for a git work tree; nullopt when there is none
// (or it cannot be opened, e.g. owned by another user or bare). When status
// cannot be computed the tree is reported dirty: a clean claim must be true.
std::optional<GitInfo> ReadGitInfo(const std::filesystem::path& dir);

// Drops "user[:password]@" from scheme URLs ("https://u:token@host/r" ->
// "https://host/r") so a remote URL never carries a secret into metadata.
// scp-like addresses ("git@host:org/r.git") hold no secret and are unchanged.
std::string StripUrlCredentials(std::string_view url);

}  // namespace cairn
