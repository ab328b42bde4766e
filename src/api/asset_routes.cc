#include "api/asset_routes.h"

#include "api/asset_args.h"
#include "api/http_util.h"
#include "assets/asset_service.h"
#include "assets/environment_builder.h"
#include "pipeline/job_spec.h"

namespace cairn {
namespace {

using api::Args;
using api::Json;

Json AssetJson(const AssetVersion& a) {
  Json tags = Json::object();
  for (const Tag& t : a.tags) tags[t.key] = t.value;
  Json j = {{"name", a.name},
            {"version", a.version},
            {"type", a.type},
            {"description", a.description},
            {"content_hash", a.content_hash},
            {"size_bytes", a.size_bytes},
            {"file_count", a.file_count},
            {"source", a.source},
            {"storage_path", a.storage_path},
            {"archived", a.archived},
            {"creation_time", a.creation_time},
            {"created_by", a.created_by},
            {"tags", std::move(tags)}};
  Json spec = Json::parse(a.spec, nullptr, false);
  if (!spec.is_discarded() && !spec.empty()) j["spec"] = std::move(spec);
  return j;
}

Json FilesJson(const std::vector<FileInfo>& files) {
  Json out = Json::array();
  for (const FileInfo& f : files) {
    out.push_back({{"path", f.path}, {"size", f.file_size}, {"sha256", f.sha256}});
  }
  return out;
}

Json EdgesJson(const std::vector<LineageEdge>& edges) {
  Json out = Json::array();
  for (const LineageEdge& e : edges) {
    out.push_back({{"from", e.src},
                   {"to", e.dst},
                   {"relation", e.relation},
                   {"creation_time", e.creation_time}});
  }
  return out;
}

void SendFile(http::Response& res, Result<UniqueFd> fd, int64_t size, const std::string& path) {
  if (!fd.ok()) return api::WriteError(res, fd.status());
  res.status = 200;
  res.set_header("Content-Disposition",
                 "attachment; filename=\"" + path.substr(path.rfind('/') + 1) + "\"");
  res.content_type = "application/octet-stream";
  res.file = std::make_shared<http::FileBody>(fd->release(), size);
}

// Routes shared by every versioned kind: get, list, archive, restore, files.
void AddVersionedRoutes(api::MlflowRouter& r, AssetService& s, const std::string& kind,
                        const std::string& plural) {
  auto resolve = [&s, kind](Args& a) -> Result<AssetVersion> {
    std::string ref = a.OptString("ref").value_or("");
    if (ref.empty()) {
      std::string name = a.String("name");
      auto version = a.OptString("version");
      if (!a.ok()) return a.status();
      ref = name + (version ? ":" + *version : "@latest");
    }
    return s.Resolve(kind, ref);
  };
  r.Add("GET", kind + "/get", [resolve, plural](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion v, resolve(a));
    return Json{{"asset", AssetJson(v)}};
  });
  r.Add("GET", kind + "/list", [&s, kind, plural](Args& a) -> Result<Json> {
    std::string name = a.OptString("name").value_or("");
    bool archived = a.OptString("include_archived").value_or("false") == "true";
    int64_t max = a.OptInt("max_results").value_or(100);
    std::string token = a.OptString("page_token").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(Page<AssetVersion> page, s.List(kind, name, archived, max, token));
    Json items = Json::array();
    for (const AssetVersion& v : page.items) items.push_back(AssetJson(v));
    Json out = {{"assets", std::move(items)}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return out;
  });
  for (bool archive : {true, false}) {
    r.Add("POST", kind + (archive ? "/archive" : "/restore"),
          [&s, kind, archive](Args& a) -> Result<Json> {
            std::string ref = a.String("ref");
            if (!a.ok()) return a.status();
            CAIRN_ASSIGN_OR_RETURN(AssetVersion v, s.SetArchived(kind, ref, archive));
            return Json{{"asset", AssetJson(v)}};
          });
  }
  r.Add("GET", kind + "/files", [&s, resolve](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion v, resolve(a));
    CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files, s.ListFiles(v));
    return Json{{"asset", AssetJson(v)}, {"files", FilesJson(files)}};
  });
}

void AddDownloadRoute(http::Server& server, AssetService& s, const std::string& kind) {
  server.Route("GET", "/api/2.0/cairn/" + kind + "/download",
               [&s, kind](const http::Request& req, http::Response& res) {
                 Args a = api::ParseArgs(req);
                 std::string ref = a.String("ref");
                 std::string path = a.String("path");
                 if (!a.ok()) return api::WriteError(res, a.status());
                 auto v = s.Resolve(kind, ref);
                 if (!v.ok()) return api::WriteError(res, v.status());
                 int64_t size = 0;
                 auto fd = s.OpenFile(*v, path, &size);
                 SendFile(res, std::move(fd), size, path);
               });
}

}  // namespace

void RegisterAssetRoutes(http::Server& server, AssetService& s) {
  api::MlflowRouter r({"/api/2.0/cairn/"});

  // Content-addressed upload: ask what is missing, PUT only that.
  r.Add("POST", "blobs/missing", [&s](Args& a) -> Result<Json> {
    std::vector<std::string> hashes = a.Strings("sha256");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> missing, s.MissingBlobs(hashes));
    return Json{{"missing", missing}};
  });

  r.Add("POST", "data/create", [&s](Args& a) -> Result<Json> {
    NewDataVersion d;
    d.name = a.String("name");
    d.version = a.OptString("version").value_or("");
    d.type = a.OptString("type").value_or("");
    d.description = a.OptString("description").value_or("");
    d.source = a.OptString("source").value_or("");
    d.datastore_uri = a.OptString("path").value_or("");
    d.created_by = a.OptString("created_by").value_or("");
    d.tags = api::AssetTagsArg(a);
    d.files = api::ManifestArg(a);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(AssetStore::Created c, s.CreateData(std::move(d)));
    return Json{{"asset", AssetJson(c.asset)}, {"created", c.created}};
  });
  AddVersionedRoutes(r, s, kDataAsset, "data");

  r.Add("POST", "environment/create", [&s](Args& a) -> Result<Json> {
    const Json* spec = a.Raw("spec");
    std::string created_by = a.OptString("created_by").value_or("");
    if (!spec || !spec->is_object()) {
      a.Fail(InvalidParameter("environment/create needs 'spec', the environment as a JSON object"));
    }
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(AssetStore::Created c, s.CreateEnvironment(spec->dump(), created_by));
    return Json{{"asset", AssetJson(c.asset)}, {"created", c.created}};
  });
  AddVersionedRoutes(r, s, kEnvironmentAsset, "environments");

  // Registered pipeline components: checked as a step's component is (the
  // pipeline layer reads them), then stored as versioned assets.
  r.Add("POST", "component/create", [&s](Args& a) -> Result<Json> {
    std::string yaml = a.String("yaml");
    std::string version = a.OptString("version").value_or("");
    std::string created_by = a.OptString("created_by").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(pipeline::ComponentRegistration c,
                           pipeline::ReadComponentRegistration(yaml));
    if (!version.empty()) c.version = version;
    CAIRN_ASSIGN_OR_RETURN(AssetStore::Created created,
                           s.CreateComponent(c.name, c.version, c.description, c.yaml, created_by));
    return Json{{"asset", AssetJson(created.asset)}, {"created", created.created}};
  });
  AddVersionedRoutes(r, s, kComponentAsset, "components");
  r.Add("POST", "environment/build", [&s](Args& a) -> Result<Json> {
    std::string ref = a.String("ref");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(MaterializedEnvironment env, s.BuildEnvironment(ref));
    return Json{{"root", env.root.string()},
                {"python", env.python.string()},
                {"hash", env.hash},
                {"cache_hit", env.cache_hit},
                {"log", env.log.string()}};
  });

  r.Add("POST", "code/create", [&s](Args& a) -> Result<Json> {
    NewCodeSnapshot c;
    c.source = a.OptString("source").value_or("");
    c.created_by = a.OptString("created_by").value_or("");
    if (const Json* git = a.Raw("git"); git && git->is_object()) c.git_json = git->dump();
    c.files = api::ManifestArg(a);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(AssetStore::Created made, s.CreateCodeSnapshot(std::move(c)));
    return Json{{"asset", AssetJson(made.asset)}, {"created", made.created}};
  });
  r.Add("GET", "code/get", [&s](Args& a) -> Result<Json> {
    std::string hash = a.String("hash");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(AssetVersion v, s.GetCode(hash));
    return Json{{"asset", AssetJson(v)}};
  });
  r.Add("GET", "code/files", [&s](Args& a) -> Result<Json> {
    std::string hash = a.String("hash");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(AssetVersion v, s.GetCode(hash));
    CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files, s.ListFiles(v));
    return Json{{"asset", AssetJson(v)}, {"files", FilesJson(files)}};
  });

  r.Add("POST", "datastores/create", [&s](Args& a) -> Result<Json> {
    DatastoreInfo d;
    d.name = a.String("name");
    d.root = a.String("path");
    d.type = a.OptString("type").value_or("local");
    d.description = a.OptString("description").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.CreateDatastore(d));
    CAIRN_ASSIGN_OR_RETURN(DatastoreInfo made, s.GetDatastore(d.name));
    return Json{{"datastore",
                 {{"name", made.name},
                  {"type", made.type},
                  {"path", made.root},
                  {"description", made.description},
                  {"creation_time", made.creation_time}}}};
  });
  r.Add("GET", "datastores/get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(DatastoreInfo d, s.GetDatastore(name));
    return Json{{"datastore",
                 {{"name", d.name},
                  {"type", d.type},
                  {"path", d.root},
                  {"description", d.description},
                  {"creation_time", d.creation_time}}}};
  });
  r.Add("GET", "datastores/list", [&s](Args& a) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::vector<DatastoreInfo> all, s.ListDatastores());
    Json out = Json::array();
    for (const DatastoreInfo& d : all) {
      out.push_back({{"name", d.name},
                     {"type", d.type},
                     {"path", d.root},
                     {"description", d.description},
                     {"creation_time", d.creation_time}});
    }
    return Json{{"datastores", std::move(out)}};
  });

  r.Add("POST", "lineage/link", [&s](Args& a) -> Result<Json> {
    std::string from = a.String("from");
    std::string to = a.String("to");
    std::string relation = a.OptString("relation").value_or("input");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.Link(from, to, relation));
    return Json::object();
  });
  r.Add("GET", "lineage/show", [&s](Args& a) -> Result<Json> {
    std::string entity = a.String("entity");
    std::string direction = a.OptString("direction").value_or("both");
    int64_t depth = a.OptInt("depth").value_or(3);
    if (!a.ok()) return a.status();
    if (direction != "both" && direction != "upstream" && direction != "downstream") {
      return InvalidParameter("direction must be upstream, downstream or both");
    }
    CAIRN_ASSIGN_OR_RETURN(LineageGraph g,
                           s.Lineage(entity, direction != "downstream", direction != "upstream",
                                     static_cast<int>(std::clamp<int64_t>(depth, 0, 1000))));
    Json out = {{"entity", g.root}, {"truncated", g.truncated}};
    if (direction != "downstream") out["upstream"] = EdgesJson(g.upstream);
    if (direction != "upstream") out["downstream"] = EdgesJson(g.downstream);
    return out;
  });
  r.Install(server);

  // PUT blobs/<sha256> is checked against the name; PUT blobs (no name) is
  // stored under whatever the bytes hash to, for clients that hash while they
  // send instead of reading a large file twice.
  auto put_blob = [&s](const http::Request& req, http::Response& res) {
    BlobInfo received{req.body_sha256, req.body_size};
    auto blob = s.PutBlob(req.match, req.body_file, received, req.body);
    if (!blob.ok()) return api::WriteError(res, blob.status());
    api::WriteJson(res, {{"sha256", blob->sha256}, {"size", blob->size}});
  };
  server.PrefixRoute("PUT", "/api/2.0/cairn/blobs/", put_blob);
  server.Route("PUT", "/api/2.0/cairn/blobs", put_blob);
  AddDownloadRoute(server, s, kDataAsset);
  AddDownloadRoute(server, s, kCodeAsset);
}

}  // namespace cairn
