#include "store/sqlite/sqlite_registry_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <variant>

#include "core/ids.h"
#include "store/paging.h"
#include "store/registry_events.h"
#include "store/registry_search.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_outbox.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn::sqlite {
namespace {

const std::vector<std::string>& AllStages() {
  static const std::vector<std::string> kStages = {kStageNone, kStageStaging, kStageProduction,
                                                   kStageArchived};
  return kStages;
}

std::optional<int64_t> FindModelId(Db& db, const std::string& name) {
  auto s = db.Prepare("SELECT model_id FROM registered_models WHERE name = ?1");
  s.BindAll(name);
  if (!s.Step()) return std::nullopt;
  return s.Int(0);
}

int64_t MustModelId(Db& db, const std::string& name) {
  auto id = FindModelId(db, name);
  if (!id) Fail(NotFound("Registered Model with name=" + name + " not found"));
  return *id;
}

std::vector<Tag> LoadTagList(Stmt& s) {
  std::vector<Tag> tags;
  while (s.Step()) tags.push_back({s.Text(0), s.Text(1)});
  return tags;
}

std::optional<ModelVersion> LoadVersion(Db& db, int64_t model_id, const std::string& name,
                                        int64_t version) {
  ModelVersion v;
  {
    auto s = db.Prepare(
        "SELECT creation_time, last_updated_time, description, source, storage_location, run_id, "
        "run_link, current_stage, status FROM model_versions WHERE model_id = ?1 AND version = "
        "?2");
    s.BindAll(model_id, version);
    if (!s.Step()) return std::nullopt;
    v.name = name;
    v.version = version;
    v.creation_timestamp = s.Int(0);
    v.last_updated_timestamp = s.Int(1);
    v.description = s.Text(2);
    v.source = s.Text(3);
    v.storage_location = s.Text(4);
    v.run_id = s.Text(5);
    v.run_link = s.Text(6);
    v.current_stage = s.Text(7);
    v.status = s.Text(8);
  }
  {
    auto s = db.Prepare(
        "SELECT key, value FROM model_version_tags WHERE model_id = ?1 AND version = ?2 "
        "ORDER BY key");
    s.BindAll(model_id, version);
    v.tags = LoadTagList(s);
  }
  {
    auto s = db.Prepare(
        "SELECT alias FROM registered_model_aliases WHERE model_id = ?1 AND version = ?2 "
        "ORDER BY alias");
    s.BindAll(model_id, version);
    while (s.Step()) v.aliases.push_back(s.Text(0));
  }
  return v;
}

ModelVersion MustLoadVersion(Db& db, int64_t model_id, const std::string& name, int64_t version) {
  auto v = LoadVersion(db, model_id, name, version);
  if (!v) {
    Fail(NotFound("Model Version (name=" + name + ", version=" + std::to_string(version) +
                  ") not found"));
  }
  return *v;
}

// The newest version in each stage, in the order of `stages`.
std::vector<ModelVersion> LatestVersions(Db& db, int64_t model_id, const std::string& name,
                                         const std::vector<std::string>& stages) {
  std::vector<std::pair<std::string, int64_t>> newest;
  {
    auto s = db.Prepare(
        "SELECT current_stage, MAX(version) FROM model_versions WHERE model_id = ?1 "
        "GROUP BY current_stage");
    s.BindAll(model_id);
    while (s.Step()) newest.emplace_back(s.Text(0), s.Int(1));
  }
  std::vector<ModelVersion> out;
  for (const auto& stage : stages) {
    for (const auto& [st, version] : newest) {
      if (st == stage) out.push_back(*LoadVersion(db, model_id, name, version));
    }
  }
  return out;
}

std::optional<RegisteredModel> LoadModel(Db& db, int64_t model_id) {
  RegisteredModel m;
  {
    auto s = db.Prepare(
        "SELECT name, description, creation_time, last_updated_time FROM registered_models "
        "WHERE model_id = ?1");
    s.BindAll(model_id);
    if (!s.Step()) return std::nullopt;
    m.name = s.Text(0);
    m.description = s.Text(1);
    m.creation_timestamp = s.Int(2);
    m.last_updated_timestamp = s.Int(3);
  }
  {
    auto s =
        db.Prepare("SELECT key, value FROM registered_model_tags WHERE model_id = ?1 ORDER BY key");
    s.BindAll(model_id);
    m.tags = LoadTagList(s);
  }
  {
    auto s = db.Prepare(
        "SELECT alias, version FROM registered_model_aliases WHERE model_id = ?1 ORDER BY alias");
    s.BindAll(model_id);
    while (s.Step()) m.aliases.push_back({s.Text(0), s.Int(1)});
  }
  m.latest_versions = LatestVersions(db, model_id, m.name, AllStages());
  return m;
}

std::vector<Tag> ModelTags(Db& db, int64_t model_id) {
  auto s =
      db.Prepare("SELECT key, value FROM registered_model_tags WHERE model_id = ?1 ORDER BY key");
  s.BindAll(model_id);
  return LoadTagList(s);
}

void TouchModel(Db& db, int64_t model_id, int64_t now) {
  db.Prepare("UPDATE registered_models SET last_updated_time = ?2 WHERE model_id = ?1")
      .BindAll(model_id, now)
      .Exec();
}

// Refuses (INVALID_STATE) to delete a model version an online deployment
// serves: the serving control plane links model:<name>:<version> ->
// deployment:<endpoint>/<deployment> ("deployed") in the same database, so
// the check sees exactly the deployments committed before this transaction.
void RefuseIfDeployed(Db& db, const std::string& name, const std::vector<int64_t>& versions,
                      bool whole_model) {
  for (int64_t v : versions) {
    std::vector<std::string> where;
    auto s = db.Prepare(
        "SELECT dst FROM lineage_edges WHERE src = ?1 AND relation = 'deployed' ORDER BY dst");
    s.BindAll("model:" + name + ":" + std::to_string(v));
    while (s.Step()) {
      std::string dst = s.Text(0);
      const std::string prefix = "deployment:";
      if (dst.rfind(prefix, 0) != 0) continue;
      std::string id = dst.substr(prefix.size());
      size_t slash = id.find('/');
      if (slash == std::string::npos) continue;
      where.push_back("deployment '" + id.substr(slash + 1) + "' of endpoint '" +
                      id.substr(0, slash) + "'");
    }
    if (where.empty()) continue;
    std::string list;
    for (size_t i = 0; i < where.size(); ++i) list += (i ? ", " : "") + where[i];
    Fail(Status(ErrorCode::kInvalidState,
                std::string("Cannot delete ") +
                    (whole_model ? "model '" + name + "': its version " + std::to_string(v)
                                 : "version " + std::to_string(v) + " of model '" + name + "'") +
                    " is served by " + list +
                    ". Update the deployment to another model version (cairn deployment update "
                    "-e ENDPOINT -n DEPLOYMENT --model ...) or delete it (cairn deployment "
                    "delete) first."));
  }
}

}  // namespace

// ---- registered models ------------------------------------------------------------------------

Result<RegisteredModel> SqliteRegistryStore::CreateRegisteredModel(const std::string& name,
                                                                   const std::string& description,
                                                                   const std::vector<Tag>& tags) {
  std::optional<RegisteredModel> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    if (FindModelId(db, name)) {
      Fail(AlreadyExists("Registered Model (name=" + name + ") already exists."));
    }
    int64_t id = 1;
    {
      auto s = db.Prepare("SELECT COALESCE(MAX(model_id), 0) + 1 FROM registered_models");
      if (s.Step()) id = s.Int(0);
    }
    int64_t now = store_.clock().NowMillis();
    db.Prepare(
          "INSERT INTO registered_models (model_id, name, description, creation_time, "
          "last_updated_time, next_version) VALUES (?1, ?2, ?3, ?4, ?4, 1)")
        .BindAll(id, name, description, now)
        .Exec();
    for (const auto& t : tags) {
      db.Prepare(
            "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value")
          .BindAll(id, t.key, t.value)
          .Exec();
    }
    out = LoadModel(db, id);
  }));
  return std::move(*out);
}

Result<RegisteredModel> SqliteRegistryStore::GetRegisteredModel(const std::string& name) {
  std::optional<RegisteredModel> out;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) { out = LoadModel(db, MustModelId(db, name)); }));
  return std::move(*out);
}

Result<RegisteredModel> SqliteRegistryStore::RenameRegisteredModel(const std::string& name,
                                                                   const std::string& new_name) {
  std::optional<RegisteredModel> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    if (new_name != name && FindModelId(db, new_name)) {
      Fail(AlreadyExists("Registered Model (name=" + new_name + ") already exists."));
    }
    db.Prepare("UPDATE registered_models SET name = ?2, last_updated_time = ?3 WHERE model_id = ?1")
        .BindAll(id, new_name, store_.clock().NowMillis())
        .Exec();
    out = LoadModel(db, id);
  }));
  return std::move(*out);
}

Result<RegisteredModel> SqliteRegistryStore::UpdateRegisteredModel(const std::string& name,
                                                                   const std::string& description) {
  std::optional<RegisteredModel> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    db.Prepare(
          "UPDATE registered_models SET description = ?2, last_updated_time = ?3 WHERE "
          "model_id = ?1")
        .BindAll(id, description, store_.clock().NowMillis())
        .Exec();
    out = LoadModel(db, id);
  }));
  return std::move(*out);
}

Status SqliteRegistryStore::DeleteRegisteredModel(const std::string& name) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    int64_t now = store_.clock().NowMillis();
    std::vector<int64_t> versions;
    {
      auto s =
          db.Prepare("SELECT version FROM model_versions WHERE model_id = ?1 ORDER BY version");
      s.BindAll(id);
      while (s.Step()) versions.push_back(s.Int(0));
    }
    RefuseIfDeployed(db, name, versions, /*whole_model=*/true);
    for (int64_t v : versions)
      AppendOutboxEvent(db, MakeModelEvent("ModelDeleted", *LoadVersion(db, id, name, v), {}, now));
    ModelVersion whole;
    whole.name = name;
    whole.tags = ModelTags(db, id);
    AppendOutboxEvent(db, MakeModelEvent("ModelDeleted", whole, {}, now));
    for (const char* sql : {"DELETE FROM registered_model_aliases WHERE model_id = ?1",
                            "DELETE FROM model_version_tags WHERE model_id = ?1",
                            "DELETE FROM model_versions WHERE model_id = ?1",
                            "DELETE FROM registered_model_tags WHERE model_id = ?1",
                            "DELETE FROM registered_models WHERE model_id = ?1"}) {
      db.Prepare(sql).BindAll(id).Exec();
    }
  });
}

Result<Page<RegisteredModel>> SqliteRegistryStore::SearchRegisteredModels(
    const RegistryQuery& query) {
  Page<RegisteredModel> page;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    SqlQuery q = BuildRegisteredModelSearchSql(query, SqliteDialect());
    auto s = db.PrepareOnce(q.sql);
    BindSqlValues(s, q.params);
    std::vector<int64_t> ids;
    while (s.Step()) ids.push_back(s.Int(0));
    page.next_page_token = NextPageToken(query.offset, ids.size(), query.max_results);
    if (static_cast<int64_t>(ids.size()) > query.max_results) ids.resize(query.max_results);
    for (int64_t id : ids) page.items.push_back(*LoadModel(db, id));
  }));
  return page;
}

Status SqliteRegistryStore::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    db.Prepare(
          "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value")
        .BindAll(id, tag.key, tag.value)
        .Exec();
  });
}

Status SqliteRegistryStore::DeleteRegisteredModelTag(const std::string& name,
                                                     const std::string& key) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    db.Prepare("DELETE FROM registered_model_tags WHERE model_id = ?1 AND key = ?2")
        .BindAll(id, key)
        .Exec();
  });
}

Result<std::vector<ModelVersion>> SqliteRegistryStore::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  std::vector<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    out = LatestVersions(db, MustModelId(db, name), name, stages.empty() ? AllStages() : stages);
  }));
  return out;
}

// ---- aliases ----------------------------------------------------------------------------------

Status SqliteRegistryStore::SetAlias(const std::string& name, const std::string& alias,
                                     int64_t version, const std::string& user,
                                     const std::string& reason) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    auto target = LoadVersion(db, id, name, version);
    if (!target) {
      Fail(InvalidParameter("Cannot set alias '" + alias + "': model '" + name +
                            "' has no version " + std::to_string(version) +
                            ". Point the alias at an existing version."));
    }
    std::optional<int64_t> previous;
    {
      auto s = db.Prepare(
          "SELECT version FROM registered_model_aliases WHERE model_id = ?1 AND alias = ?2");
      s.BindAll(id, alias);
      if (s.Step()) previous = s.Int(0);
    }
    db.Prepare(
          "INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version")
        .BindAll(id, alias, version)
        .Exec();
    int64_t now = store_.clock().NowMillis();
    target->aliases = LoadVersion(db, id, name, version)->aliases;
    std::vector<std::pair<std::string, std::string>> extra = {{"Alias", alias},
                                                              {"AliasAction", "Set"}};
    if (previous) extra.emplace_back("PreviousVersion", std::to_string(*previous));
    extra.emplace_back("user", user);
    extra.emplace_back("reason", reason);
    AppendOutboxEvent(db, MakeModelEvent("ModelAliasChanged", *target, extra, now));
    TouchModel(db, id, now);
  });
}

Status SqliteRegistryStore::DeleteAlias(const std::string& name, const std::string& alias) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    std::optional<int64_t> version;
    {
      auto s = db.Prepare(
          "SELECT version FROM registered_model_aliases WHERE model_id = ?1 AND alias = ?2");
      s.BindAll(id, alias);
      if (s.Step()) version = s.Int(0);
    }
    if (!version) return;  // as MLflow: deleting an absent alias is a no-op
    db.Prepare("DELETE FROM registered_model_aliases WHERE model_id = ?1 AND alias = ?2")
        .BindAll(id, alias)
        .Exec();
    int64_t now = store_.clock().NowMillis();
    AppendOutboxEvent(db, MakeModelEvent("ModelAliasChanged", *LoadVersion(db, id, name, *version),
                                         {{"Alias", alias}, {"AliasAction", "Deleted"}}, now));
    TouchModel(db, id, now);
  });
}

Result<std::vector<AliasChange>> SqliteRegistryStore::AliasHistory(const std::string& name) {
  std::vector<AliasChange> out;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    MustModelId(db, name);
    // Subjects are "models/<name>:<version>"; the name may hold LIKE wildcards,
    // so match by prefix with substr instead.
    const std::string prefix = "models/" + name + ":";
    auto s = db.Prepare(
        "SELECT time, data FROM outbox WHERE type = 'ModelAliasChanged' AND "
        "substr(subject, 1, ?2) = ?1 ORDER BY event_id");
    s.BindAll(prefix, static_cast<int64_t>(prefix.size()));
    while (s.Step()) {
      auto data = nlohmann::json::parse(s.Text(1), nullptr, false);
      if (!data.is_object() || data.value("ModelName", "") != name) continue;
      AliasChange c;
      c.time = s.Int(0);
      c.alias = data.value("Alias", "");
      c.action = data.value("AliasAction", "");
      c.version = std::atoll(data.value("ModelVersion", "0").c_str());
      if (data.contains("PreviousVersion")) {
        c.previous_version = std::atoll(data.value("PreviousVersion", "0").c_str());
      }
      c.user = data.value("user", "");
      c.reason = data.value("reason", "");
      out.push_back(std::move(c));
    }
  }));
  return out;
}

Result<ModelVersion> SqliteRegistryStore::GetModelVersionByAlias(const std::string& name,
                                                                 const std::string& alias) {
  std::optional<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    int64_t id = MustModelId(db, name);
    auto s = db.Prepare(
        "SELECT version FROM registered_model_aliases WHERE model_id = ?1 AND alias = ?2");
    s.BindAll(id, alias);
    if (!s.Step()) {
      Fail(NotFound("Registered model alias " + alias + " not found for model " + name + "."));
    }
    out = MustLoadVersion(db, id, name, s.Int(0));
  }));
  return std::move(*out);
}

// ---- model versions ---------------------------------------------------------------------------

Result<ModelVersion> SqliteRegistryStore::CreateModelVersion(const NewModelVersion& nv) {
  std::optional<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, nv.name);
    int64_t version = 1;
    {
      auto s = db.Prepare("SELECT next_version FROM registered_models WHERE model_id = ?1");
      s.BindAll(id);
      if (s.Step()) version = s.Int(0);
    }
    if (nv.expected_version > 0 && nv.expected_version != version) {
      if (nv.expected_version < version) {
        Fail(AlreadyExists("Model version " + nv.name + ":" + std::to_string(nv.expected_version) +
                           " already exists (or existed); model versions are numbered by the "
                           "registry: omit --version to get " +
                           std::to_string(version) + "."));
      }
      Fail(InvalidParameter("Model " + nv.name + " gets version " + std::to_string(version) +
                            " next, not " + std::to_string(nv.expected_version) +
                            "; versions are numbered 1, 2, 3... (omit --version)."));
    }
    int64_t now = store_.clock().NowMillis();
    db.Prepare(
          "INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, "
          "description, source, storage_location, run_id, run_link, current_stage, status) "
          "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, 'None', 'READY')")
        .BindAll(id, version, now, nv.description, nv.source, nv.storage_location, nv.run_id,
                 nv.run_link)
        .Exec();
    for (const auto& t : nv.tags) {
      db.Prepare(
            "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?1, ?2, ?3, "
            "?4) ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value")
          .BindAll(id, version, t.key, t.value)
          .Exec();
    }
    const std::string entity = "model:" + nv.name + ":" + std::to_string(version);
    for (const auto& [src, relation] : nv.lineage_inputs) {
      db.Prepare(
            "INSERT INTO lineage_edges (src, dst, relation, creation_time) VALUES (?1, ?2, ?3, "
            "?4) ON CONFLICT DO NOTHING")
          .BindAll(src, entity, relation, now)
          .Exec();
    }
    out = LoadVersion(db, id, nv.name, version);
    AppendOutboxEvent(db, MakeModelEvent("ModelRegistered", *out, {}, now));
    // Last, so that the event above is rolled back with everything else if this fails.
    db.Prepare(
          "UPDATE registered_models SET next_version = ?2, last_updated_time = ?3 WHERE "
          "model_id = ?1")
        .BindAll(id, version + 1, now)
        .Exec();
  }));
  return std::move(*out);
}

Result<ModelVersion> SqliteRegistryStore::GetModelVersion(const std::string& name,
                                                          int64_t version) {
  std::optional<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Read(
      [&](Db& db) { out = MustLoadVersion(db, MustModelId(db, name), name, version); }));
  return std::move(*out);
}

Result<ModelVersion> SqliteRegistryStore::UpdateModelVersion(const std::string& name,
                                                             int64_t version,
                                                             const std::string& description) {
  std::optional<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    MustLoadVersion(db, id, name, version);
    db.Prepare(
          "UPDATE model_versions SET description = ?3, last_updated_time = ?4 WHERE model_id = "
          "?1 AND version = ?2")
        .BindAll(id, version, description, store_.clock().NowMillis())
        .Exec();
    out = LoadVersion(db, id, name, version);
  }));
  return std::move(*out);
}

Status SqliteRegistryStore::DeleteModelVersion(const std::string& name, int64_t version) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    ModelVersion v = MustLoadVersion(db, id, name, version);
    if (!v.aliases.empty()) {
      std::string list;
      for (const auto& a : v.aliases) list += (list.empty() ? "'" : ", '") + a + "'";
      Fail(Status(ErrorCode::kInvalidState,
                  "Cannot delete version " + std::to_string(version) + " of model '" + name +
                      "': alias " + list +
                      " points to it. Move the alias to another version (POST "
                      "registered-models/alias) or delete it (DELETE registered-models/alias) "
                      "first."));
    }
    RefuseIfDeployed(db, name, {version}, /*whole_model=*/false);
    db.Prepare("DELETE FROM model_version_tags WHERE model_id = ?1 AND version = ?2")
        .BindAll(id, version)
        .Exec();
    db.Prepare("DELETE FROM model_versions WHERE model_id = ?1 AND version = ?2")
        .BindAll(id, version)
        .Exec();
    int64_t now = store_.clock().NowMillis();
    AppendOutboxEvent(db, MakeModelEvent("ModelDeleted", v, {}, now));
    TouchModel(db, id, now);
  });
}

Result<Page<ModelVersion>> SqliteRegistryStore::SearchModelVersions(const RegistryQuery& query) {
  Page<ModelVersion> page;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    SqlQuery q = BuildModelVersionSearchSql(query, SqliteDialect());
    auto s = db.PrepareOnce(q.sql);
    BindSqlValues(s, q.params);
    std::vector<std::pair<int64_t, int64_t>> keys;
    while (s.Step()) keys.emplace_back(s.Int(0), s.Int(1));
    page.next_page_token = NextPageToken(query.offset, keys.size(), query.max_results);
    if (static_cast<int64_t>(keys.size()) > query.max_results) keys.resize(query.max_results);
    // Pages usually hold a few models' versions: look each name up once.
    int64_t last_id = -1;
    std::string name;
    for (const auto& [id, version] : keys) {
      if (id != last_id) {
        auto n = db.Prepare("SELECT name FROM registered_models WHERE model_id = ?1");
        n.BindAll(id);
        if (n.Step()) name = n.Text(0);
        last_id = id;
      }
      page.items.push_back(*LoadVersion(db, id, name, version));
    }
  }));
  return page;
}

Result<ModelVersion> SqliteRegistryStore::TransitionModelVersionStage(const std::string& name,
                                                                      int64_t version,
                                                                      const std::string& stage,
                                                                      bool archive_existing) {
  std::optional<ModelVersion> out;
  CAIRN_RETURN_IF_ERROR(store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    ModelVersion target = MustLoadVersion(db, id, name, version);
    int64_t now = store_.clock().NowMillis();
    auto set_stage = [&](int64_t v, const std::string& to) {
      db.Prepare(
            "UPDATE model_versions SET current_stage = ?3, last_updated_time = ?4 WHERE "
            "model_id = ?1 AND version = ?2")
          .BindAll(id, v, to, now)
          .Exec();
    };
    if (archive_existing) {
      std::vector<int64_t> others;
      {
        auto s = db.Prepare(
            "SELECT version FROM model_versions WHERE model_id = ?1 AND current_stage = ?2 AND "
            "version != ?3 ORDER BY version");
        s.BindAll(id, stage, version);
        while (s.Step()) others.push_back(s.Int(0));
      }
      for (int64_t v : others) {
        set_stage(v, kStageArchived);
        AppendOutboxEvent(
            db, MakeModelEvent("ModelStageChanged", *LoadVersion(db, id, name, v),
                               {{"Stage", kStageArchived}, {"PreviousStage", stage}}, now));
      }
    }
    set_stage(version, stage);
    out = LoadVersion(db, id, name, version);
    AppendOutboxEvent(
        db, MakeModelEvent("ModelStageChanged", *out,
                           {{"Stage", stage}, {"PreviousStage", target.current_stage}}, now));
    TouchModel(db, id, now);
  }));
  return std::move(*out);
}

Status SqliteRegistryStore::SetModelVersionTag(const std::string& name, int64_t version,
                                               const Tag& tag) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    MustLoadVersion(db, id, name, version);
    db.Prepare(
          "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?1, ?2, ?3, "
          "?4) ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value")
        .BindAll(id, version, tag.key, tag.value)
        .Exec();
  });
}

Status SqliteRegistryStore::DeleteModelVersionTag(const std::string& name, int64_t version,
                                                  const std::string& key) {
  return store_.Write([&](Db& db) {
    int64_t id = MustModelId(db, name);
    MustLoadVersion(db, id, name, version);
    db.Prepare("DELETE FROM model_version_tags WHERE model_id = ?1 AND version = ?2 AND key = ?3")
        .BindAll(id, version, key)
        .Exec();
  });
}

// ---- outbox -----------------------------------------------------------------------------------

Result<std::vector<OutboxEvent>> SqliteRegistryStore::UndeliveredEvents(int64_t limit) {
  std::vector<OutboxEvent> out;
  CAIRN_RETURN_IF_ERROR(store_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kOutboxColumns +
                        " FROM outbox WHERE delivered_time IS NULL ORDER BY event_id LIMIT ?1");
    s.BindAll(limit);
    while (s.Step()) out.push_back(ReadOutboxEvent(s));
  }));
  return out;
}

Status SqliteRegistryStore::MarkDelivered(const std::vector<int64_t>& event_ids) {
  return store_.Write([&](Db& db) {
    int64_t now = store_.clock().NowMillis();
    for (int64_t id : event_ids) {
      db.Prepare(
            "UPDATE outbox SET delivered_time = ?2 WHERE event_id = ?1 AND delivered_time IS NULL")
          .BindAll(id, now)
          .Exec();
    }
  });
}

}  // namespace cairn::sqlite
