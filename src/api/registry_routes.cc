#include "api/registry_routes.h"

#include <algorithm>

#include "api/asset_args.h"
#include "api/http_util.h"
#include "registry/registry_service.h"

namespace cairn {
namespace {
using api::Args;
using api::Json;

// ---- entities -> proto JSON (empty optional fields omitted, as MLflow's) ----

Json TagList(const std::vector<Tag>& tags) {
  Json a = Json::array();
  for (const auto& t : tags) a.push_back({{"key", t.key}, {"value", t.value}});
  return a;
}

// Tags under "cairn." are the server's own (model type, MLmodel, parent...):
// MLflow clients get versions exactly as MLflow's server would show them, and
// Cairn's routes show everything.
bool IsSystemTag(const Tag& t) { return t.key.rfind(kCairnTagPrefix, 0) == 0; }

Json FullVersionJson(const ModelVersion& v) {
  Json j = {{"name", v.name},
            {"version", std::to_string(v.version)},
            {"creation_timestamp", v.creation_timestamp},
            {"last_updated_timestamp", v.last_updated_timestamp},
            {"current_stage", v.current_stage},
            {"source", v.source},
            {"status", v.status}};
  if (!v.description.empty()) j["description"] = v.description;
  if (!v.run_id.empty()) j["run_id"] = v.run_id;
  if (!v.run_link.empty()) j["run_link"] = v.run_link;
  if (!v.tags.empty()) j["tags"] = TagList(v.tags);
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  return j;
}

Json VersionJson(const ModelVersion& v) {
  if (std::none_of(v.tags.begin(), v.tags.end(), IsSystemTag)) return FullVersionJson(v);
  ModelVersion shown = v;
  std::erase_if(shown.tags, IsSystemTag);
  return FullVersionJson(shown);
}

Json ModelJson(const RegisteredModel& m) {
  Json j = {{"name", m.name},
            {"creation_timestamp", m.creation_timestamp},
            {"last_updated_timestamp", m.last_updated_timestamp}};
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.latest_versions.empty()) {
    Json a = Json::array();
    for (const auto& v : m.latest_versions) a.push_back(VersionJson(v));
    j["latest_versions"] = std::move(a);
  }
  if (!m.tags.empty()) j["tags"] = TagList(m.tags);
  if (!m.aliases.empty()) {
    Json a = Json::array();
    for (const auto& al : m.aliases) {
      a.push_back({{"alias", al.alias}, {"version", std::to_string(al.version)}});
    }
    j["aliases"] = std::move(a);
  }
  return j;
}

// ---- JSON -> values ---------------------------------------------------------------

std::vector<Tag> ReadTagList(Args& args) {
  std::vector<Tag> tags;
  const Json* raw = args.Raw("tags");
  if (!raw) return tags;
  if (!raw->is_array()) {
    args.Fail(InvalidParameter("'tags' must be a list of {key, value}"));
    return tags;
  }
  for (const auto& t : *raw) {
    Args a = Args::Of(t);
    Tag tag{a.String("key"), a.OptString("value").value_or("")};
    if (!a.ok()) {
      args.Fail(InvalidParameter("in 'tags': " + a.status().message()));
      return {};
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

// A proto bool: JSON true/false, or "true"/"false" in a query string.
bool ReadBool(Args& args, const char* key) {
  const Json* raw = args.Raw(key);
  if (!raw) return false;
  if (raw->is_boolean()) return raw->get<bool>();
  if (raw->is_string()) {
    std::string s = raw->get<std::string>();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true") return true;
    if (s == "false") return false;
  }
  args.Fail(InvalidParameter(std::string("Invalid value for parameter '") + key +
                             "' supplied: expected true or false"));
  return false;
}

SearchRequest ReadRegistrySearch(Args& args) {
  SearchRequest req;
  req.filter = args.OptString("filter").value_or("");
  req.order_by = args.Strings("order_by");
  req.max_results = args.OptInt("max_results");
  req.page_token = args.OptString("page_token").value_or("");
  return req;
}

Result<Json> Done(const Status& st) {
  if (!st.ok()) return st;
  return Json::object();
}

template <typename T>
Result<Json> Wrap(const char* field, const Result<T>& r, Json (*to_json)(const T&)) {
  if (!r.ok()) return r.status();
  return Json{{field, to_json(*r)}};
}

void RegisterModelRoutes(api::MlflowRouter& r, RegistryService& s) {
  r.Add("POST", "registered-models/create", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string description = a.OptString("description").value_or("");
    auto tags = ReadTagList(a);
    if (!a.ok()) return a.status();
    return Wrap("registered_model", s.CreateRegisteredModel(name, description, tags), ModelJson);
  });
  r.Add("GET", "registered-models/get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    return Wrap("registered_model", s.GetRegisteredModel(name), ModelJson);
  });
  r.Add("POST", "registered-models/rename", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string new_name = a.String("new_name");
    if (!a.ok()) return a.status();
    return Wrap("registered_model", s.RenameRegisteredModel(name, new_name), ModelJson);
  });
  r.Add("PATCH", "registered-models/update", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string description = a.OptString("description").value_or("");
    if (!a.ok()) return a.status();
    return Wrap("registered_model", s.UpdateRegisteredModel(name, description), ModelJson);
  });
  r.Add("DELETE", "registered-models/delete", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    return Done(s.DeleteRegisteredModel(name));
  });
  r.Add("GET", "registered-models/search", [&s](Args& a) -> Result<Json> {
    SearchRequest req = ReadRegistrySearch(a);
    if (!a.ok()) return a.status();
    auto page = s.SearchRegisteredModels(req);
    if (!page.ok()) return page.status();
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& m : page->items) list.push_back(ModelJson(m));
    if (!list.empty()) out["registered_models"] = std::move(list);
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    return out;
  });
  auto latest = [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    auto stages = a.Strings("stages");
    if (!a.ok()) return a.status();
    auto versions = s.GetLatestVersions(name, stages);
    if (!versions.ok()) return versions.status();
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& v : *versions) list.push_back(VersionJson(v));
    if (!list.empty()) out["model_versions"] = std::move(list);
    return out;
  };
  r.Add("POST", "registered-models/get-latest-versions", latest);
  r.Add("GET", "registered-models/get-latest-versions", latest);
  r.Add("POST", "registered-models/set-tag", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    Tag tag{a.String("key"), a.OptString("value").value_or("")};
    if (!a.ok()) return a.status();
    return Done(s.SetRegisteredModelTag(name, tag));
  });
  r.Add("DELETE", "registered-models/delete-tag", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string key = a.String("key");
    if (!a.ok()) return a.status();
    return Done(s.DeleteRegisteredModelTag(name, key));
  });
  r.Add("POST", "registered-models/alias", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string alias = a.String("alias");
    std::string version = a.String("version");
    // Cairn extension: who moved the alias and why, kept in the alias history.
    std::string user = a.OptString("user").value_or("");
    std::string reason = a.OptString("reason").value_or("");
    if (!a.ok()) return a.status();
    return Done(s.SetAlias(name, alias, version, user, reason));
  });
  r.Add("DELETE", "registered-models/alias", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string alias = a.String("alias");
    if (!a.ok()) return a.status();
    return Done(s.DeleteAlias(name, alias));
  });
  r.Add("GET", "registered-models/alias", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string alias = a.String("alias");
    if (!a.ok()) return a.status();
    return Wrap("model_version", s.GetModelVersionByAlias(name, alias), VersionJson);
  });
}

void RegisterVersionRoutes(api::MlflowRouter& r, RegistryService& s) {
  r.Add("POST", "model-versions/create", [&s](Args& a) -> Result<Json> {
    ModelVersionRequest req;
    req.name = a.String("name");
    req.source = a.String("source");
    req.run_id = a.OptString("run_id").value_or("");
    req.run_link = a.OptString("run_link").value_or("");
    req.description = a.OptString("description").value_or("");
    req.tags = ReadTagList(a);
    if (!a.ok()) return a.status();
    return Wrap("model_version", s.CreateModelVersion(req), VersionJson);
  });
  r.Add("GET", "model-versions/get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    if (!a.ok()) return a.status();
    return Wrap("model_version", s.GetModelVersion(name, version), VersionJson);
  });
  r.Add("PATCH", "model-versions/update", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    std::string description = a.OptString("description").value_or("");
    if (!a.ok()) return a.status();
    return Wrap("model_version", s.UpdateModelVersion(name, version, description), VersionJson);
  });
  r.Add("DELETE", "model-versions/delete", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    if (!a.ok()) return a.status();
    return Done(s.DeleteModelVersion(name, version));
  });
  r.Add("GET", "model-versions/search", [&s](Args& a) -> Result<Json> {
    SearchRequest req = ReadRegistrySearch(a);
    if (!a.ok()) return a.status();
    auto page = s.SearchModelVersions(req);
    if (!page.ok()) return page.status();
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& v : page->items) list.push_back(VersionJson(v));
    if (!list.empty()) out["model_versions"] = std::move(list);
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    return out;
  });
  r.Add("POST", "model-versions/transition-stage", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    std::string stage = a.String("stage");
    bool archive = ReadBool(a, "archive_existing_versions");
    if (!a.ok()) return a.status();
    return Wrap("model_version", s.TransitionModelVersionStage(name, version, stage, archive),
                VersionJson);
  });
  r.Add("POST", "model-versions/set-tag", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    Tag tag{a.String("key"), a.OptString("value").value_or("")};
    if (!a.ok()) return a.status();
    return Done(s.SetModelVersionTag(name, version, tag));
  });
  r.Add("DELETE", "model-versions/delete-tag", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    std::string key = a.String("key");
    if (!a.ok()) return a.status();
    return Done(s.DeleteModelVersionTag(name, version, key));
  });
  r.Add("GET", "model-versions/get-download-uri", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    if (!a.ok()) return a.status();
    auto uri = s.GetDownloadUri(name, version);
    if (!uri.ok()) return uri.status();
    return Json{{"artifact_uri", *uri}};
  });
}

// Cairn's model-asset routes under /api/2.0/cairn/models/ (see docs/api.md).
void RegisterCairnModelRoutes(api::MlflowRouter& r, RegistryService& s) {
  r.Add("POST", "create", [&s](Args& a) -> Result<Json> {
    ModelVersionRequest req;
    req.name = a.String("name");
    req.source = a.OptString("source").value_or("");
    req.run_id = a.OptString("run_id").value_or("");
    req.description = a.OptString("description").value_or("");
    req.model_type = a.OptString("type").value_or("");
    req.record_model_type = true;
    req.parent = a.OptString("parent").value_or("");
    req.converted = ReadBool(a, "converted");
    req.quantized = ReadBool(a, "quantized");
    std::string version = a.OptString("version").value_or("");
    req.tags = api::AssetTagsArg(a);
    std::vector<ManifestFile> files = api::ManifestArg(a);
    if (!a.ok()) return a.status();
    if (!version.empty()) {
      CAIRN_ASSIGN_OR_RETURN(req.expected_version, ParseModelVersion(version));
    }
    if (files.empty() == req.source.empty()) {
      return InvalidParameter(
          "models/create needs either 'files' (an uploaded folder's manifest) or 'source' "
          "(runs:/<run_id>/<path>), not both");
    }
    // Azure ML creates the model container with its first version.
    auto model = s.GetRegisteredModel(req.name);
    if (!model.ok() && model.status().code() == ErrorCode::kResourceDoesNotExist) {
      auto made = s.CreateRegisteredModel(req.name, "", {});
      if (!made.ok() && made.status().code() != ErrorCode::kResourceAlreadyExists) {
        return made.status();
      }
    } else if (!model.ok()) {
      return model.status();
    }
    auto v = files.empty() ? s.CreateModelVersion(req) : s.CreateModelVersionFromFiles(req, files);
    return Wrap("model_version", v, FullVersionJson);
  });
  r.Add("GET", "get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    auto version = a.OptString("version");
    auto alias = a.OptString("alias");
    if (!a.ok()) return a.status();
    if (version.has_value() == alias.has_value()) {
      return InvalidParameter("models/get takes name and either version or alias");
    }
    return Wrap(
        "model_version",
        version ? s.GetModelVersion(name, *version) : s.GetModelVersionByAlias(name, *alias),
        FullVersionJson);
  });
  r.Add("GET", "files", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string version = a.String("version");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files, s.ListModelVersionFiles(name, version));
    Json out = Json::array();
    for (const FileInfo& f : files) {
      out.push_back({{"path", f.path}, {"size", f.file_size}, {"sha256", f.sha256}});
    }
    return Json{{"files", std::move(out)}};
  });
  r.Add("GET", "alias-history", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<AliasChange> history, s.AliasHistory(name));
    Json out = Json::array();
    for (const AliasChange& c : history) {
      Json j = {{"alias", c.alias}, {"action", c.action}, {"version", std::to_string(c.version)},
                {"user", c.user},   {"reason", c.reason}, {"time", c.time}};
      if (c.previous_version) j["previous_version"] = std::to_string(*c.previous_version);
      out.push_back(std::move(j));
    }
    return Json{{"history", std::move(out)}};
  });
}

}  // namespace

void RegisterRegistryRoutes(http::Server& server, api::MlflowRouter& router,
                            RegistryService& registry) {
  RegisterModelRoutes(router, registry);
  RegisterVersionRoutes(router, registry);
  api::MlflowRouter cairn_models({"/api/2.0/cairn/models/"});
  RegisterCairnModelRoutes(cairn_models, registry);
  cairn_models.Install(server);
  // The MLflow UI downloads a version's files here (outside the /api prefixes).
  server.Route("GET", "/model-versions/get-artifact",
               [&registry](const http::Request& req, http::Response& res) {
                 Args a = api::ParseArgs(req);
                 std::string name = a.String("name");
                 std::string version = a.String("version");
                 std::string path = a.String("path");
                 if (!a.ok()) return api::WriteError(res, a.status());
                 auto store_path = registry.ModelVersionArtifactPath(name, version, path);
                 if (!store_path.ok()) return api::WriteError(res, store_path.status());
                 api::SendArtifact(res, registry.artifacts(), *store_path, path);
               });
}

}  // namespace cairn
