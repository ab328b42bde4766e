#include "assets/git_info.h"

#include <git2.h>

#include <memory>
#include <mutex>

namespace cairn {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote, git_remote_free>>;
using StatusPtr = std::unique_ptr<git_status_list, Deleter<git_status_list, git_status_list_free>>;

void InitLibgit2Once() {
  static std::once_flag once;
  // Never shut down: other threads may be using libgit2 until exit.
  std::call_once(once, [] { git_libgit2_init(); });
}

std::string CommitOfHead(git_repository* repo) {
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo, "HEAD") != 0) return "";  // unborn branch
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

std::string BranchOfHead(git_repository* repo) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, "HEAD") != 0) return "";
  RefPtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return "";  // detached
  std::string_view target = git_reference_symbolic_target(head.get());
  constexpr std::string_view kHeads = "refs/heads/";
  if (target.substr(0, kHeads.size()) != kHeads) return "";
  return std::string(target.substr(kHeads.size()));
}

std::string UrlOfRemote(git_repository* repo, const char* name) {
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo, name) != 0) return "";
  RemotePtr remote(raw);
  const char* url = git_remote_url(remote.get());
  return url ? StripUrlCredentials(url) : "";
}

std::string RemoteUrl(git_repository* repo) {
  std::string origin = UrlOfRemote(repo, "origin");
  if (!origin.empty()) return origin;
  git_strarray names = {nullptr, 0};
  if (git_remote_list(&names, repo) != 0) return "";
  std::string url = names.count > 0 ? UrlOfRemote(repo, names.strings[0]) : "";
  git_strarray_dispose(&names);
  return url;
}

bool IsDirty(git_repository* repo) {
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, repo, &options) != 0) return true;
  StatusPtr list(raw);
  return git_status_list_entrycount(list.get()) > 0;
}

}  // namespace

std::string StripUrlCredentials(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  size_t authority = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  size_t at = url.substr(authority, authority_end - authority).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, authority)) + std::string(url.substr(authority + at + 1));
}

std::optional<GitInfo> ReadGitInfo(const std::filesystem::path& dir) {
  InitLibgit2Once();
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, dir.c_str(), 0, nullptr) != 0) return std::nullopt;
  RepoPtr repo(raw);
  const char* workdir = git_repository_workdir(repo.get());
  if (git_repository_is_bare(repo.get()) || workdir == nullptr) return std::nullopt;
  GitInfo info;
  std::string top = workdir;  // libgit2 ends it with "/"
  if (top.size() > 1 && top.back() == '/') top.pop_back();
  info.workdir = top;
  info.commit = CommitOfHead(repo.get());
  info.branch = BranchOfHead(repo.get());
  info.remote_url = RemoteUrl(repo.get());
  info.dirty = IsDirty(repo.get());
  return info;
}

}  // namespace cairn
