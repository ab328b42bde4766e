#include "cli/asset_commands.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "artifacts/path_safety.h"
#include "assets/datastore.h"
#include "assets/environment.h"
#include "assets/git_info.h"
#include "assets/hash_cache.h"
#include "assets/manifest.h"
#include "assets/snapshot_files.h"
#include "cli/api_client.h"
#include "cli/cli_context.h"
#include "cli/data_commands.h"
#include "core/fs.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Progress on stderr for long work, at most twice a second, only for people.
class Progress {
 public:
  Progress(const CliContext& ctx, std::string what, int64_t total_bytes)
      : show_(!ctx.json && total_bytes > (64 << 20) && ::isatty(2)),
        what_(std::move(what)),
        total_(total_bytes) {}
  void Add(int64_t bytes) {
    done_ += bytes;
    auto now = std::chrono::steady_clock::now();
    if (show_ && now - last_ > std::chrono::milliseconds(500)) {
      last_ = now;
      std::cerr << "\r" << what_ << " " << FormatBytes(done_) << " / " << FormatBytes(total_)
                << std::flush;
    }
  }
  ~Progress() {
    if (show_) std::cerr << "\r" << what_ << " " << FormatBytes(total_) << " done\n";
  }

 private:
  bool show_;
  std::string what_;
  int64_t total_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

// The files under a local path: the file itself, or a folder's files honouring
// .gitignore/.amlignore/.cairnignore (as Azure ML's upload does).
Result<std::vector<LocalFile>> CollectLocalFiles(const fs::path& path, bool* is_file) {
  std::error_code ec;
  std::vector<LocalFile> out;
  if (fs::is_regular_file(path, ec)) {
    *is_file = true;
    out.push_back({path.filename().string(), fs::absolute(path),
                   static_cast<int64_t>(fs::file_size(path, ec))});
    return out;
  }
  if (!fs::is_directory(path, ec)) {
    return NotFound("no such file or folder: " + path.string());
  }
  *is_file = false;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files, ListSnapshotFiles(path));
  for (SnapshotFile& f : files) out.push_back({std::move(f.path), std::move(f.source), f.size});
  return out;
}

// Hashes the files (answering from the hash cache when unchanged), asks the
// server which blobs it lacks and uploads just those. A large file the cache
// does not know is not read twice: it is hashed while it is sent (the server
// names the blob by the hash it computes, and both hashes must agree).
Result<std::vector<ManifestFile>> UploadFiles(CliContext& ctx,
                                              const std::vector<LocalFile>& files) {
  constexpr int64_t kHashWhileSendingAbove = 16 << 20;
  auto cache = HashCache::Open(DefaultHashCachePath());
  std::vector<ManifestFile> manifest(files.size());
  std::vector<FileStamp> stamps(files.size());
  std::vector<size_t> streamed;  // indexes of files to hash while sending
  int64_t to_hash = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(stamps[i], StampFile(files[i].source));
    manifest[i] = {files[i].path, "", stamps[i].size};
    if (cache.ok()) {
      if (auto known = (*cache)->Lookup(files[i].source, stamps[i])) manifest[i].sha256 = *known;
    }
    if (manifest[i].sha256.empty()) {
      if (stamps[i].size > kHashWhileSendingAbove) {
        streamed.push_back(i);
      } else {
        to_hash += stamps[i].size;
      }
    }
  }
  {
    Progress progress(ctx, "hashing", to_hash);
    for (size_t i = 0; i < files.size(); ++i) {
      if (!manifest[i].sha256.empty() || stamps[i].size > kHashWhileSendingAbove) continue;
      if (cache.ok()) {
        CAIRN_ASSIGN_OR_RETURN(manifest[i].sha256, (*cache)->Sha256(files[i].source, stamps[i]));
      } else {
        CAIRN_ASSIGN_OR_RETURN(BlobInfo b, HashFileContents(files[i].source));
        manifest[i].sha256 = b.sha256;
      }
      progress.Add(stamps[i].size);
    }
  }
  std::map<std::string, size_t> by_hash;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!manifest[i].sha256.empty()) by_hash.emplace(manifest[i].sha256, i);
  }
  std::vector<std::string> hashes;
  for (auto& [h, _] : by_hash) hashes.push_back(h);
  std::vector<std::string> missing;
  ApiClient client(ctx.server);
  const size_t kBatch = 10000;
  for (size_t i = 0; i < hashes.size(); i += kBatch) {
    Json batch(std::vector<std::string>(hashes.begin() + i,
                                        hashes.begin() + std::min(hashes.size(), i + kBatch)));
    auto body =
        client.Post(std::string(kCairnApi) + "blobs/missing", Json{{"sha256", batch}}.dump());
    if (!body.ok()) return body.status();
    Json answer = Json::parse(*body, nullptr, false);
    if (!answer.is_object() || !answer["missing"].is_array()) {
      return InternalError("the server's answer to blobs/missing is not {missing: [...]}");
    }
    for (const auto& h : answer["missing"]) missing.push_back(h.get<std::string>());
  }
  int64_t upload_bytes = 0;
  for (const auto& h : missing) upload_bytes += stamps[by_hash[h]].size;
  for (size_t i : streamed) upload_bytes += stamps[i].size;
  Progress progress(ctx, "uploading", upload_bytes);
  for (const auto& h : missing) {
    const LocalFile& f = files[by_hash[h]];
    auto put = client.PutFile(std::string(kCairnApi) + "blobs/" + h, f.source.string());
    if (!put.ok()) {
      return Status(put.status().code(), "uploading " + f.path + ": " + put.status().message());
    }
    progress.Add(f.size);
  }
  for (size_t i : streamed) {
    const LocalFile& f = files[i];
    std::string sent_hash;
    auto put = client.PutFile(std::string(kCairnApi) + "blobs", f.source.string(), &sent_hash);
    if (!put.ok()) {
      return Status(put.status().code(), "uploading " + f.path + ": " + put.status().message());
    }
    Json stored = Json::parse(*put, nullptr, false);
    std::string server_hash = stored.is_object() ? stored.value("sha256", "") : "";
    if (server_hash != sent_hash) {
      return Status(ErrorCode::kIoError, "uploading " + f.path +
                                             ": the server stored sha256:" + server_hash +
                                             " but the bytes sent hash to sha256:" + sent_hash +
                                             "; was the file changed? send it again");
    }
    manifest[i].sha256 = sent_hash;
    auto after = StampFile(f.source);
    if (cache.ok() && after.ok() && after->size == stamps[i].size &&
        after->mtime_ns == stamps[i].mtime_ns && after->ctime_ns == stamps[i].ctime_ns) {
      (*cache)->Remember(f.source, stamps[i], sent_hash);
    }
    progress.Add(f.size);
  }
  return manifest;
}

Result<Json> CodeSnapshotArgs(CliContext& ctx, const std::string& dir) {
  bool is_file = false;
  CAIRN_ASSIGN_OR_RETURN(std::vector<LocalFile> files, CollectLocalFiles(dir, &is_file));
  if (is_file) return InvalidParameter("code snapshot takes a folder, not a file: " + dir);
  CAIRN_ASSIGN_OR_RETURN(std::vector<ManifestFile> manifest, UploadFiles(ctx, files));
  Json args = {{"files", ManifestJson(manifest)},
               {"source", fs::absolute(dir).lexically_normal().string()},
               {"created_by", UserName()}};
  if (auto git = ReadGitInfo(dir)) {
    args["git"] = {{"commit", git->commit},
                   {"branch", git->branch},
                   {"remote", git->remote_url},
                   {"dirty", git->dirty}};
  }
  return args;
}

Status AddLocalDataFiles(CliContext& ctx, const std::string& path, Json& args) {
  bool is_file = false;
  CAIRN_ASSIGN_OR_RETURN(std::vector<LocalFile> files, CollectLocalFiles(path, &is_file));
  if (!args.contains("type")) args["type"] = is_file ? "uri_file" : "uri_folder";
  CAIRN_ASSIGN_OR_RETURN(std::vector<ManifestFile> manifest, UploadFiles(ctx, files));
  args["files"] = ManifestJson(manifest);
  args["source"] = fs::absolute(path).lexically_normal().string();
  return Status::Ok();
}

Json ManifestJson(const std::vector<ManifestFile>& files) {
  Json out = Json::array();
  for (const ManifestFile& f : files) {
    out.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  }
  return out;
}

namespace {

// YAML errors with file:line:column.
using DataSpec = AssetYaml;

// Azure ML's data YAML; a relative local path is relative to the YAML file.
Result<DataSpec> LoadDataYaml(const std::string& file) {
  CAIRN_ASSIGN_OR_RETURN(DataSpec d, LoadAssetYaml(file, "data asset"));
  if (!IsDatastoreUri(d.path) && d.path.find("://") == std::string::npos &&
      fs::path(d.path).is_relative()) {
    d.path = (fs::path(file).parent_path() / d.path).lexically_normal().string();
  }
  return d;
}

void PrintAsset(const Json& a, const std::string& kind) {
  std::cout << kind << " " << a.value("name", "") << ":" << a.value("version", "") << "\n"
            << "  type:        " << a.value("type", "") << "\n"
            << "  content:     sha256:" << a.value("content_hash", "") << "\n"
            << "  size:        " << FormatBytes(a.value("size_bytes", int64_t{0})) << " in "
            << a.value("file_count", int64_t{0}) << " file(s)\n"
            << "  source:      " << a.value("source", "") << "\n"
            << "  created:     " << FormatTime(a["creation_time"]) << "\n"
            << "  archived:    " << (a.value("archived", false) ? "yes" : "no") << "\n";
  if (!a.value("description", "").empty()) {
    std::cout << "  description: " << a.value("description", "") << "\n";
  }
  const Json tags = a.value("tags", Json::object());
  for (auto& [k, v] : tags.items()) {
    std::cout << "  tag:         " << k << "=" << v.get<std::string>() << "\n";
  }
}

class AssetCommands {
 public:
  explicit AssetCommands(CliContext& ctx) : ctx_(ctx) {}

  void DataCreate(DataSpec d, const std::vector<std::string>& tag_args) {
    for (const auto& t : tag_args) {
      size_t eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        return ctx_.Fail(kUsage, "BAD_REQUEST", "--tag expects KEY=VALUE, got '" + t + "'");
      }
      d.tags[t.substr(0, eq)] = t.substr(eq + 1);
    }
    if (d.name.empty() || d.path.empty()) {
      return ctx_.Fail(kUsage, "BAD_REQUEST",
                       "data create needs --name and --path, or -f data.yml");
    }
    Json args = {{"name", d.name}, {"created_by", UserName()}};
    if (!d.version.empty()) args["version"] = d.version;
    if (!d.type.empty()) args["type"] = d.type;
    if (!d.description.empty()) args["description"] = d.description;
    args["tags"] = d.tags;
    if (IsDatastoreUri(d.path)) {
      args["path"] = d.path;  // the server reads it through the datastore
    } else if (d.path.find("://") != std::string::npos) {
      return ctx_.Fail(kUsage, "INVALID_PARAMETER_VALUE",
                       "path '" + d.path +
                           "' is a URL Cairn does not read; give a local file or "
                           "folder, or azureml://datastores/<name>/paths/<path>");
    } else if (Status st = AddLocalDataFiles(ctx_, d.path, args); !st.ok()) {
      return LocalError(st);
    }
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "data/create", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& a = (*r)["asset"];
    std::cout << ((*r)["created"].get<bool>() ? "registered " : "unchanged ") << "data "
              << a["name"].get<std::string>() << ":" << a["version"].get<std::string>() << " ("
              << FormatBytes(a["size_bytes"].get<int64_t>()) << ", " << a["file_count"].dump()
              << " file(s), sha256:" << a["content_hash"].get<std::string>().substr(0, 12) << ")\n";
  }

  void List(const std::string& kind, const std::string& name, bool archived) {
    Json args = {{"max_results", 1000}};
    if (!name.empty()) args["name"] = name;
    if (archived) args["include_archived"] = "true";
    auto r = ctx_.Send("GET", std::string(kCairnApi) + kind + "/list", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : (*r)["assets"]) {
      rows.push_back({a["name"], a["version"], a["type"], FormatBytes(a["size_bytes"]),
                      FormatTime(a["creation_time"]), a["archived"].get<bool>() ? "archived" : "",
                      a["content_hash"].get<std::string>().substr(0, 12)});
    }
    PrintTable({"NAME", "VERSION", "TYPE", "SIZE", "CREATED", "STATE", "CONTENT"}, rows);
  }

  void Show(const std::string& kind, const std::string& ref) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + kind + "/files", RefArgs(kind, ref));
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    PrintAsset((*r)["asset"], kind);
    if (kind == "environment") {
      std::cout << "  spec:\n" << (*r)["asset"].value("spec", Json::object()).dump(2) << "\n";
      return;
    }
    if (kind == "code" && (*r)["asset"].contains("spec")) {
      for (auto& [k, v] : (*r)["asset"]["spec"].items()) {
        std::cout << "  git " << k << ": " << FormatValue(v) << "\n";
      }
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : (*r)["files"]) {
      rows.push_back(
          {f["path"], FormatBytes(f["size"]), f["sha256"].get<std::string>().substr(0, 12)});
    }
    PrintTable({"FILE", "SIZE", "SHA256"}, rows);
  }

  void Download(const std::string& kind, const std::string& ref, const std::string& out_dir) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + kind + "/files", RefArgs(kind, ref));
    if (!r) return;
    const Json& a = (*r)["asset"];
    std::string canonical =
        kind == "code" ? a["name"].get<std::string>()
                       : a["name"].get<std::string>() + ":" + a["version"].get<std::string>();
    fs::path dest = out_dir.empty() ? fs::path(a["name"].get<std::string>()) : fs::path(out_dir);
    int64_t total = a.value("size_bytes", int64_t{0});
    Progress progress(ctx_, "downloading", total);
    ApiClient client(ctx_.server);
    int64_t count = 0;
    for (const auto& f : (*r)["files"]) {
      std::string rel = f["path"].get<std::string>();
      fs::path target = dest / rel;
      // Paths come from the server; still never write outside the destination.
      auto clean = NormalizeRelativePath(rel);
      if (!clean.ok() || *clean != rel || rel.empty()) {
        return LocalError(
            InvalidParameter("refusing to write '" + rel + "' outside " + dest.string()));
      }
      if (Status st = EnsureDirectory(target.parent_path()); !st.ok()) return LocalError(st);
      Status st = client.Download(std::string(kCairnApi) + kind + "/download",
                                  {{"ref", canonical}, {"path", rel}}, target.string());
      if (!st.ok()) {
        return ctx_.Fail(client.unreachable() ? kUnreachable : kRefused, ErrorCodeName(st.code()),
                         st.message());
      }
      progress.Add(f["size"].get<int64_t>());
      ++count;
    }
    if (ctx_.json) return ctx_.Emit({{"asset", a}, {"path", dest.string()}, {"files", count}});
    std::cout << "downloaded " << kind << " " << canonical << " (" << count << " file(s)) to "
              << dest.string() << "\n";
  }

  void SetArchived(const std::string& kind, const std::string& ref, bool archived) {
    SetAssetArchived(ctx_, kind, ref, archived);
  }

  void CodeSnapshot(const std::string& dir) {
    auto r = SnapshotCode(ctx_, dir);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << (*r)["asset"]["content_hash"].get<std::string>() << "\n";
  }

  void EnvironmentCreate(const std::string& file) {
    auto spec = LoadEnvironmentYaml(file);
    if (!spec.ok()) return LocalError(spec.status());
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "environment/create",
                       {{"spec", ToJson(*spec)}, {"created_by", UserName()}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& a = (*r)["asset"];
    std::cout << ((*r)["created"].get<bool>() ? "registered " : "unchanged ") << "environment "
              << a["name"].get<std::string>() << ":" << a["version"].get<std::string>()
              << " (content sha256:" << a["content_hash"].get<std::string>().substr(0, 12) << ")\n";
  }

  void EnvironmentBuild(const std::string& ref) {
    if (!ctx_.json)
      std::cerr << "building environment " << ref << " (pip output goes to the log)\n";
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "environment/build", {{"ref", ref}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << ((*r)["cache_hit"].get<bool>() ? "cached: " : "built: ")
              << (*r)["root"].get<std::string>()
              << "\n  python: " << (*r)["python"].get<std::string>()
              << "\n  log:    " << (*r)["log"].get<std::string>() << "\n";
  }

  void DatastoreCreate(const std::string& name, const std::string& path, const std::string& desc) {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    auto r = ctx_.Send(
        "POST", std::string(kCairnApi) + "datastores/create",
        {{"name", name}, {"path", abs.lexically_normal().string()}, {"description", desc}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "created datastore " << name << " -> "
              << (*r)["datastore"]["path"].get<std::string>()
              << "\n  refer to its files as azureml://datastores/" << name << "/paths/<path>\n";
  }

  void DatastoreList() {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "datastores/list", Json::object());
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : (*r)["datastores"]) {
      rows.push_back({d["name"], d["type"], d["path"], FormatTime(d["creation_time"])});
    }
    PrintTable({"NAME", "TYPE", "PATH", "CREATED"}, rows);
  }

  void DatastoreShow(const std::string& name) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "datastores/get", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& d = (*r)["datastore"];
    std::cout << "datastore " << d["name"].get<std::string>()
              << "\n  type: " << d["type"].get<std::string>()
              << "\n  path: " << d["path"].get<std::string>()
              << "\n  created: " << FormatTime(d["creation_time"]) << "\n";
  }

  void LineageShow(const std::string& entity, bool upstream, bool downstream, int depth) {
    std::string direction = upstream == downstream ? "both" : upstream ? "upstream" : "downstream";
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "lineage/show",
                       {{"entity", entity}, {"direction", direction}, {"depth", depth}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::string root = (*r)["entity"];
    std::cout << root << "\n";
    auto print = [&](const char* title, const Json& edges, bool up) {
      std::cout << title << (edges.empty() ? " (none)\n" : "\n");
      // Children of each node, to draw the walk as an indented tree.
      std::multimap<std::string, std::pair<std::string, std::string>> next;
      for (const auto& e : edges) {
        if (up) {
          next.emplace(e["to"], std::make_pair(e["from"].get<std::string>(),
                                               e["relation"].get<std::string>()));
        } else {
          next.emplace(e["from"], std::make_pair(e["to"].get<std::string>(),
                                                 e["relation"].get<std::string>()));
        }
      }
      std::set<std::string> shown;
      std::function<void(const std::string&, int)> walk = [&](const std::string& node, int level) {
        auto [b, e] = next.equal_range(node);
        for (auto it = b; it != e; ++it) {
          std::cout << std::string(2 * level, ' ') << (up ? "<- " : "-> ") << it->second.first
                    << "  (" << it->second.second << ")\n";
          if (shown.insert(it->second.first).second) walk(it->second.first, level + 1);
        }
      };
      walk(root, 1);
    };
    if (r->contains("upstream")) print("upstream:", (*r)["upstream"], true);
    if (r->contains("downstream"))
      print("downstream (what depends on it):", (*r)["downstream"], false);
    if ((*r)["truncated"].get<bool>()) std::cout << "(truncated: narrow it with --depth)\n";
  }

  void LineageLink(const std::string& from, const std::string& to, const std::string& relation) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "lineage/link",
                       {{"from", from}, {"to", to}, {"relation", relation}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "linked " << from << " -> " << to << " (" << relation << ")\n";
  }

 private:
  Json RefArgs(const std::string& kind, const std::string& ref) {
    return kind == "code" ? Json{{"hash", ref}} : Json{{"ref", ref}};
  }
  void LocalError(const Status& st) { ctx_.FailLocal(st); }

  CliContext& ctx_;
};

}  // namespace

std::optional<Json> SnapshotCode(CliContext& ctx, const std::string& dir) {
  auto args = CodeSnapshotArgs(ctx, dir);
  if (!args.ok()) {
    ctx.FailLocal(args.status());
    return std::nullopt;
  }
  return ctx.Send("POST", std::string(kCairnApi) + "code/create", *args);
}

void SetAssetArchived(CliContext& ctx, const std::string& kind, const std::string& ref,
                      bool archived) {
  auto r = ctx.Send("POST", std::string(kCairnApi) + kind + (archived ? "/archive" : "/restore"),
                    {{"ref", ref}});
  if (!r) return;
  if (ctx.json) return ctx.Emit(*r);
  std::cout << (archived ? "archived " : "restored ") << kind << " "
            << (*r)["asset"]["name"].get<std::string>() << ":"
            << (*r)["asset"]["version"].get<std::string>() << "\n";
}

std::string UserName() {
  const char* u = std::getenv("USER");
  return u && *u ? u : "";
}

Status YamlError(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  return InvalidParameter(file + ":" + std::to_string(mark.line + 1) + ":" +
                          std::to_string(mark.column + 1) + ": " + what);
}

Result<YAML::Node> LoadYamlMap(const std::string& file, const std::string& what) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    return NotFound("cannot read " + file);
  } catch (const YAML::Exception& e) {
    return YamlError(file, e.mark, e.msg);
  }
  if (!root.IsMap()) return InvalidParameter(file + ": expected a mapping of " + what + " fields");
  return root;
}

Result<AssetYaml> LoadAssetYaml(const std::string& file, const std::string& what) {
  CAIRN_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlMap(file, what));
  AssetYaml y;
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "$schema") continue;
    if (key == "tags") {
      if (!v.IsMap()) return YamlError(file, v.Mark(), "tags must be a mapping of key: value");
      for (const auto& t : v) y.tags[t.first.as<std::string>()] = t.second.as<std::string>();
      continue;
    }
    std::string* field = key == "name"          ? &y.name
                         : key == "version"     ? &y.version
                         : key == "type"        ? &y.type
                         : key == "path"        ? &y.path
                         : key == "description" ? &y.description
                                                : nullptr;
    if (!field) {
      return YamlError(file, kv.first.Mark(),
                       "unknown field '" + key + "'; a " + what +
                           " has name, version, type, path, description, tags");
    }
    if (!v.IsScalar()) return YamlError(file, v.Mark(), key + " must be a scalar");
    *field = v.as<std::string>();
  }
  if (y.name.empty()) return InvalidParameter(file + ": " + what + " needs a name");
  if (y.path.empty()) return InvalidParameter(file + ": " + what + " needs a path");
  return y;
}

void AddAssetCommands(CLI::App& app, CliContext& ctx) {
  // CLI11 keeps pointers to these; they live as long as the app parses.
  static AssetCommands cmd(ctx);
  static DataSpec data;
  static std::string file, ref, name, out, dir, from, to, relation = "input", description;
  static std::vector<std::string> tags;
  static bool archived = false, upstream = false, downstream = false;
  static int depth = 3;

  auto* d = app.add_subcommand("data", "versioned data assets (Azure ML data semantics)")
                ->require_subcommand(1);
  AddDataStatsCommand(d, ctx);
  auto* create = d->add_subcommand(
      "create", "register a data version from a file, a folder or a datastore path");
  create->add_option("--name,-n", data.name, "data asset name");
  create->add_option("--version,-v", data.version, "version (default: the next number)");
  create->add_option("--path,-p", data.path,
                     "local file or folder, or azureml://datastores/<ds>/paths/<p>");
  create->add_option("--type,-t", data.type, "uri_file or uri_folder (default: from the path)")
      ->check(CLI::IsMember({"uri_file", "uri_folder"}));
  create->add_option("--description,-d", data.description);
  create->add_option("--tag,--tags", tags, "KEY=VALUE (repeatable)");
  create->add_option("--file,-f", file,
                     "Azure ML data YAML (name, version, type, path, description, tags)");
  create->callback([&] {
    DataSpec spec = data;
    if (!file.empty()) {
      auto loaded = LoadDataYaml(file);
      if (!loaded.ok()) {
        return ctx.Fail(kUsage, ErrorCodeName(loaded.status().code()), loaded.status().message());
      }
      spec = *loaded;
      // Flags given with -f override the file, as Azure ML's --set does.
      if (!data.name.empty()) spec.name = data.name;
      if (!data.version.empty()) spec.version = data.version;
      if (!data.path.empty()) spec.path = data.path;
      if (!data.type.empty()) spec.type = data.type;
      if (!data.description.empty()) spec.description = data.description;
    }
    cmd.DataCreate(spec, tags);
  });
  for (const char* kind : {"data", "environment"}) {
    CLI::App* parent = std::string(kind) == "data" ? d : nullptr;
    if (!parent) {
      parent = app.add_subcommand("environment", "environments: pip/venv, conda or image specs")
                   ->require_subcommand(1);
      auto* env_create = parent->add_subcommand("create", "register an environment from its YAML");
      env_create->add_option("--file,-f", file, "Azure ML environment YAML")->required();
      env_create->callback([&] { cmd.EnvironmentCreate(file); });
      auto* build =
          parent->add_subcommand("build", "materialize a Python environment (cached by hash)");
      build->add_option("ref", ref, "name:version or name@latest")->required();
      build->callback([&] { cmd.EnvironmentBuild(ref); });
    }
    std::string k = kind;
    auto* list =
        parent->add_subcommand("list", "list the latest version of each, or one name's versions");
    list->add_option("--name,-n", name, "list this name's versions");
    list->add_flag("--include-archived", archived);
    list->callback([&, k] { cmd.List(k, name, archived); });
    auto* show = parent->add_subcommand("show", "show one version");
    show->add_option("ref", ref, "name:version or name@latest (azureml: prefix accepted)")
        ->required();
    show->callback([&, k] { cmd.Show(k, ref); });
    auto* archive = parent->add_subcommand("archive", "hide a version from @latest and listings");
    archive->add_option("ref", ref, "name:version")->required();
    archive->callback([&, k] { cmd.SetArchived(k, ref, true); });
    auto* restore = parent->add_subcommand("restore", "undo archive");
    restore->add_option("ref", ref, "name:version")->required();
    restore->callback([&, k] { cmd.SetArchived(k, ref, false); });
    if (k == "data") {
      auto* download = parent->add_subcommand("download", "download a data version's files");
      download->add_option("ref", ref, "name:version or name@latest")->required();
      download->add_option("--output,-o", out, "destination folder (default: ./<name>)");
      download->callback([&] { cmd.Download("data", ref, out); });
    }
  }

  auto* code = app.add_subcommand("code", "code snapshots")->require_subcommand(1);
  auto* snap = code->add_subcommand(
      "snapshot",
      "snapshot a folder (honouring .gitignore/.amlignore/.cairnignore); prints its hash");
  snap->add_option("dir", dir)->required();
  snap->callback([&] { cmd.CodeSnapshot(dir); });
  auto* code_show = code->add_subcommand("show", "show a snapshot's files and git state");
  code_show->add_option("hash", ref)->required();
  code_show->callback([&] { cmd.Show("code", ref); });
  auto* code_dl = code->add_subcommand("download", "restore a snapshot's files");
  code_dl->add_option("hash", ref)->required();
  code_dl->add_option("--output,-o", out, "destination folder")->required();
  code_dl->callback([&] { cmd.Download("code", ref, out); });

  auto* ds = app.add_subcommand("datastore", "named roots that data paths resolve through")
                 ->require_subcommand(1);
  auto* ds_create = ds->add_subcommand("create", "register a folder as a datastore");
  ds_create->add_option("--name,-n", name)->required();
  ds_create->add_option("--path,-p", dir, "folder on the server's machine")->required();
  ds_create->add_option("--description,-d", description);
  ds_create->callback([&] { cmd.DatastoreCreate(name, dir, description); });
  ds->add_subcommand("list", "list datastores")->callback([&] { cmd.DatastoreList(); });
  auto* ds_show = ds->add_subcommand("show", "show one datastore");
  ds_show->add_option("name", name)->required();
  ds_show->callback([&] { cmd.DatastoreShow(name); });

  auto* lin =
      app.add_subcommand("lineage", "what produced what: data, code, environments, runs, models")
          ->require_subcommand(1);
  auto* lin_show = lin->add_subcommand("show", "walk the lineage graph from an entity");
  lin_show
      ->add_option("entity", ref,
                   "data:flights:3 (or flights:3), run:<id>, code:<hash>, environment:n:v, "
                   "model:n:v")
      ->required();
  lin_show->add_flag("--upstream", upstream, "only what it came from");
  lin_show->add_flag("--downstream", downstream, "only what depends on it (impact)");
  lin_show->add_option("--depth", depth, "hops to follow")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  lin_show->callback([&] { cmd.LineageShow(ref, upstream, downstream, depth); });
  auto* link = lin->add_subcommand("link", "record that FROM was used to produce TO");
  link->add_option("from", from)->required();
  link->add_option("to", to)->required();
  link->add_option("--relation", relation)->capture_default_str();
  link->callback([&] { cmd.LineageLink(from, to, relation); });
}

}  // namespace cairn
