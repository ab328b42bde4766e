// SqliteServingStore: SQL for endpoints, deployments and traffic history (see
// the header). Rules arrive as callbacks and run inside the write transaction.
#include "store/sqlite/sqlite_serving_store.h"

#include <algorithm>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_outbox.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn::sqlite {
namespace {

constexpr const char* kEndpointColumns =
    "name, auth_mode, primary_key, secondary_key, description, tags, traffic, mirror_traffic, "
    "created_by, creation_time, last_updated_time";

constexpr const char* kDeploymentColumns =
    "endpoint, name, model_ref, model_name, model_version, code_ref, scoring_script, "
    "environment_ref, instance_count, request_settings, liveness_probe, readiness_probe, "
    "data_collector, description, tags, generation, state, model_dir, code_dir, python, "
    "signature_inputs, created_by, creation_time, last_updated_time, provisioning_state, "
    "provisioning_error, failed_model, serving_generation";

EndpointRecord ReadEndpoint(const Stmt& s) {
  EndpointRecord e;
  e.name = s.Text(0);
  e.auth_mode = s.Text(1);
  e.primary_key = s.Text(2);
  e.secondary_key = s.Text(3);
  e.description = s.Text(4);
  e.tags_json = s.Text(5);
  e.traffic_json = s.Text(6);
  e.mirror_traffic_json = s.Text(7);
  e.created_by = s.Text(8);
  e.creation_time = s.Int(9);
  e.last_updated_time = s.Int(10);
  return e;
}

DeploymentRecord ReadDeployment(const Stmt& s) {
  DeploymentRecord d;
  d.endpoint = s.Text(0);
  d.name = s.Text(1);
  d.model_ref = s.Text(2);
  d.model_name = s.Text(3);
  d.model_version = s.Text(4);
  d.code_ref = s.Text(5);
  d.scoring_script = s.Text(6);
  d.environment_ref = s.Text(7);
  d.instance_count = s.Int(8);
  d.request_settings_json = s.Text(9);
  d.liveness_probe_json = s.Text(10);
  d.readiness_probe_json = s.Text(11);
  d.data_collector_json = s.Text(12);
  d.description = s.Text(13);
  d.tags_json = s.Text(14);
  d.generation = s.Int(15);
  d.state = s.Text(16);
  d.model_dir = s.Text(17);
  d.code_dir = s.Text(18);
  d.python = s.Text(19);
  d.signature_inputs_json = s.Text(20);
  d.created_by = s.Text(21);
  d.creation_time = s.Int(22);
  d.last_updated_time = s.Int(23);
  d.provisioning_state = s.Text(24);
  d.provisioning_error = s.Text(25);
  d.failed_model = s.Text(26);
  d.serving_generation = s.Int(27);
  return d;
}

TrafficChange ReadChange(const Stmt& s) {
  TrafficChange c;
  c.endpoint = s.Text(0);
  c.seq = s.Int(1);
  c.changed_by = s.Text(2);
  c.time = s.Int(3);
  c.traffic_before_json = s.Text(4);
  c.traffic_after_json = s.Text(5);
  c.mirror_before_json = s.Text(6);
  c.mirror_after_json = s.Text(7);
  c.reason = s.Text(8);
  return c;
}

constexpr const char* kChangeColumns =
    "endpoint, seq, changed_by, time, traffic_before, traffic_after, mirror_before, "
    "mirror_after, reason";

std::optional<EndpointRecord> LoadEndpoint(Db& db, const std::string& name) {
  auto s =
      db.Prepare(std::string("SELECT ") + kEndpointColumns + " FROM endpoints WHERE name = ?1");
  s.BindAll(name);
  if (!s.Step()) return std::nullopt;
  return ReadEndpoint(s);
}

EndpointRecord MustEndpoint(Db& db, const std::string& name) {
  auto e = LoadEndpoint(db, name);
  if (!e) {
    Fail(NotFound("endpoint '" + name +
                  "' does not exist; see `cairn endpoint list`, or create it with `cairn "
                  "endpoint create -f endpoint.yml`"));
  }
  return std::move(*e);
}

std::optional<DeploymentRecord> LoadDeployment(Db& db, const std::string& endpoint,
                                               const std::string& name) {
  auto s = db.Prepare(std::string("SELECT ") + kDeploymentColumns +
                      " FROM deployments WHERE endpoint = ?1 AND name = ?2");
  s.BindAll(endpoint, name);
  if (!s.Step()) return std::nullopt;
  return ReadDeployment(s);
}

std::vector<DeploymentRecord> LoadDeployments(Db& db, const std::string& endpoint) {
  std::vector<DeploymentRecord> out;
  auto s = db.Prepare(std::string("SELECT ") + kDeploymentColumns +
                      " FROM deployments WHERE endpoint = ?1 ORDER BY name");
  s.BindAll(endpoint);
  while (s.Step()) out.push_back(ReadDeployment(s));
  return out;
}

std::optional<TrafficChange> LastChange(Db& db, const std::string& endpoint) {
  auto s = db.Prepare(std::string("SELECT ") + kChangeColumns +
                      " FROM traffic_history WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1");
  s.BindAll(endpoint);
  if (!s.Step()) return std::nullopt;
  return ReadChange(s);
}

EndpointContext LoadContext(Db& db, const std::string& endpoint) {
  return {LoadDeployments(db, endpoint), LastChange(db, endpoint)};
}

// A deployment's incoming edges say which model version it serves now, so
// they are replaced, never accumulated: "where is it deployed" stays true.
void ReplaceLineage(Db& db, const std::string& endpoint, const std::string& name,
                    const std::vector<LineageEdge>& edges, int64_t now) {
  db.Prepare("DELETE FROM lineage_edges WHERE dst = ?1")
      .BindAll(DeploymentEntity(endpoint, name))
      .Exec();
  for (const LineageEdge& e : edges) {
    db.Prepare(
          "INSERT INTO lineage_edges (src, dst, relation, creation_time) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT DO NOTHING")
        .BindAll(e.src, e.dst, e.relation, now)
        .Exec();
  }
}

void WriteDeployment(Db& db, const DeploymentRecord& d) {
  db.Prepare(std::string("INSERT INTO deployments (") + kDeploymentColumns +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
             "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)")
      .BindAll(d.endpoint, d.name, d.model_ref, d.model_name, d.model_version, d.code_ref,
               d.scoring_script, d.environment_ref, d.instance_count, d.request_settings_json,
               d.liveness_probe_json, d.readiness_probe_json, d.data_collector_json, d.description,
               d.tags_json, d.generation, d.state, d.model_dir, d.code_dir, d.python,
               d.signature_inputs_json, d.created_by, d.creation_time, d.last_updated_time,
               d.provisioning_state, d.provisioning_error, d.failed_model, d.serving_generation)
      .Exec();
}

}  // namespace

Status SqliteServingStore::CreateEndpoint(const EndpointRecord& endpoint) {
  return db_.Write([&](Db& db) {
    if (LoadEndpoint(db, endpoint.name)) {
      Fail(AlreadyExists("endpoint '" + endpoint.name +
                         "' already exists; change it with `cairn endpoint update` or delete it "
                         "first"));
    }
    const int64_t now = db_.clock().NowMillis();
    db.Prepare(std::string("INSERT INTO endpoints (") + kEndpointColumns +
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
        .BindAll(endpoint.name, endpoint.auth_mode, endpoint.primary_key, endpoint.secondary_key,
                 endpoint.description, endpoint.tags_json, endpoint.traffic_json,
                 endpoint.mirror_traffic_json, endpoint.created_by, now, now)
        .Exec();
  });
}

Result<EndpointRecord> SqliteServingStore::GetEndpoint(const std::string& name) {
  std::optional<EndpointRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) { out = MustEndpoint(db, name); }));
  return std::move(*out);
}

Result<std::vector<EndpointRecord>> SqliteServingStore::ListEndpoints() {
  std::vector<EndpointRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s =
        db.Prepare(std::string("SELECT ") + kEndpointColumns + " FROM endpoints ORDER BY name");
    while (s.Step()) out.push_back(ReadEndpoint(s));
  }));
  return out;
}

Result<EndpointRecord> SqliteServingStore::UpdateEndpoint(const std::string& name,
                                                          const EndpointMutator& mutate,
                                                          const std::string& who,
                                                          const std::string& reason) {
  std::optional<EndpointRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) {
    EndpointRecord before = MustEndpoint(db, name);
    EndpointContext context = LoadContext(db, name);
    EndpointRecord e = before;
    if (Status st = mutate(e, context); !st.ok()) Fail(st);
    e.name = name;
    e.creation_time = before.creation_time;
    e.last_updated_time = db_.clock().NowMillis();
    db.Prepare(
          "UPDATE endpoints SET auth_mode = ?2, primary_key = ?3, secondary_key = ?4, "
          "description = ?5, tags = ?6, traffic = ?7, mirror_traffic = ?8, last_updated_time = "
          "?9 WHERE name = ?1")
        .BindAll(name, e.auth_mode, e.primary_key, e.secondary_key, e.description, e.tags_json,
                 e.traffic_json, e.mirror_traffic_json, e.last_updated_time)
        .Exec();
    if (e.traffic_json != before.traffic_json ||
        e.mirror_traffic_json != before.mirror_traffic_json) {
      const int64_t seq = context.last_change ? context.last_change->seq + 1 : 1;
      db.Prepare(std::string("INSERT INTO traffic_history (") + kChangeColumns +
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
          .BindAll(name, seq, who, e.last_updated_time, before.traffic_json, e.traffic_json,
                   before.mirror_traffic_json, e.mirror_traffic_json, reason)
          .Exec();
    }
    out = std::move(e);
  }));
  return std::move(*out);
}

Status SqliteServingStore::DeleteEndpoint(const std::string& name) {
  return db_.Write([&](Db& db) {
    MustEndpoint(db, name);
    for (const DeploymentRecord& d : LoadDeployments(db, name)) {
      ReplaceLineage(db, name, d.name, {}, 0);
    }
    db.Prepare("DELETE FROM deployments WHERE endpoint = ?1").BindAll(name).Exec();
    db.Prepare("DELETE FROM traffic_history WHERE endpoint = ?1").BindAll(name).Exec();
    db.Prepare("DELETE FROM endpoints WHERE name = ?1").BindAll(name).Exec();
  });
}

Result<std::vector<TrafficChange>> SqliteServingStore::TrafficHistory(const std::string& endpoint,
                                                                      int64_t limit) {
  std::vector<TrafficChange> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    MustEndpoint(db, endpoint);
    // Newest first with the limit, then reversed: oldest first.
    auto s = db.Prepare(std::string("SELECT ") + kChangeColumns +
                        " FROM traffic_history WHERE endpoint = ?1 ORDER BY seq DESC LIMIT ?2");
    s.BindAll(endpoint, limit > 0 ? limit : int64_t{-1});
    while (s.Step()) out.push_back(ReadChange(s));
  }));
  std::reverse(out.begin(), out.end());
  return out;
}

Result<DeploymentRecord> SqliteServingStore::CreateDeployment(const DeploymentRecord& deployment,
                                                              const DeploymentEffects& effects) {
  std::optional<DeploymentRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) {
    MustEndpoint(db, deployment.endpoint);
    if (LoadDeployment(db, deployment.endpoint, deployment.name)) {
      Fail(AlreadyExists("deployment '" + deployment.name + "' already exists on endpoint '" +
                         deployment.endpoint + "'; change it with `cairn deployment update`"));
    }
    DeploymentRecord d = deployment;
    d.generation = 1;
    d.creation_time = d.last_updated_time = db_.clock().NowMillis();
    WriteDeployment(db, d);
    ReplaceLineage(db, d.endpoint, d.name, effects.lineage, d.creation_time);
    for (OutboxEvent e : effects.events) {
      if (e.time == 0) e.time = d.last_updated_time;
      AppendOutboxEvent(db, e);
    }
    out = std::move(d);
  }));
  return std::move(*out);
}

Result<DeploymentRecord> SqliteServingStore::UpdateDeployment(const DeploymentRecord& deployment,
                                                              const DeploymentEffects& effects) {
  std::optional<DeploymentRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) {
    MustEndpoint(db, deployment.endpoint);
    auto old = LoadDeployment(db, deployment.endpoint, deployment.name);
    if (!old) {
      Fail(NotFound("deployment '" + deployment.name + "' does not exist on endpoint '" +
                    deployment.endpoint + "'; create it with `cairn deployment create`"));
    }
    if (deployment.generation != old->generation + 1) {
      Fail(Status(ErrorCode::kInvalidState, "deployment '" + deployment.name +
                                                "' was changed by another update meanwhile "
                                                "(now generation " +
                                                std::to_string(old->generation) +
                                                "); retry the update"));
    }
    DeploymentRecord d = deployment;
    d.created_by = old->created_by;
    d.creation_time = old->creation_time;
    d.last_updated_time = db_.clock().NowMillis();
    db.Prepare("DELETE FROM deployments WHERE endpoint = ?1 AND name = ?2")
        .BindAll(d.endpoint, d.name)
        .Exec();
    WriteDeployment(db, d);
    ReplaceLineage(db, d.endpoint, d.name, effects.lineage, d.last_updated_time);
    for (OutboxEvent e : effects.events) {
      if (e.time == 0) e.time = d.last_updated_time;
      AppendOutboxEvent(db, e);
    }
    out = std::move(d);
  }));
  return std::move(*out);
}

Result<DeploymentRecord> SqliteServingStore::RecordDeploymentState(
    const std::string& endpoint, const std::string& name, const DeploymentMutator& mutate,
    bool replace_lineage, const std::vector<LineageEdge>& lineage) {
  std::optional<DeploymentRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) {
    MustEndpoint(db, endpoint);
    auto d = LoadDeployment(db, endpoint, name);
    if (!d)
      Fail(NotFound("deployment '" + name + "' does not exist on endpoint '" + endpoint + "'"));
    const int64_t generation = d->generation;
    std::vector<OutboxEvent> events;
    if (Status st = mutate(*d, events); !st.ok()) Fail(st);
    d->endpoint = endpoint;
    d->name = name;
    d->generation = generation;
    d->last_updated_time = db_.clock().NowMillis();
    db.Prepare("DELETE FROM deployments WHERE endpoint = ?1 AND name = ?2")
        .BindAll(endpoint, name)
        .Exec();
    WriteDeployment(db, *d);
    if (replace_lineage) ReplaceLineage(db, endpoint, name, lineage, d->last_updated_time);
    for (OutboxEvent& e : events) {
      if (e.time == 0) e.time = d->last_updated_time;
    }
    AppendOutboxEvents(db, events);
    out = std::move(d);
  }));
  return std::move(*out);
}

Result<DeploymentRecord> SqliteServingStore::GetDeployment(const std::string& endpoint,
                                                           const std::string& name) {
  std::optional<DeploymentRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    MustEndpoint(db, endpoint);
    out = LoadDeployment(db, endpoint, name);
    if (!out) {
      Fail(NotFound("deployment '" + name + "' does not exist on endpoint '" + endpoint +
                    "'; see `cairn deployment list --endpoint-name " + endpoint + "`"));
    }
  }));
  return std::move(*out);
}

Result<std::vector<DeploymentRecord>> SqliteServingStore::ListDeployments(
    const std::string& endpoint) {
  std::vector<DeploymentRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    MustEndpoint(db, endpoint);
    out = LoadDeployments(db, endpoint);
  }));
  return out;
}

Status SqliteServingStore::DeleteDeployment(const std::string& endpoint, const std::string& name,
                                            const DeploymentCheck& check) {
  return db_.Write([&](Db& db) {
    EndpointRecord e = MustEndpoint(db, endpoint);
    if (!LoadDeployment(db, endpoint, name)) {
      Fail(NotFound("deployment '" + name + "' does not exist on endpoint '" + endpoint + "'"));
    }
    if (Status st = check(e, LoadContext(db, endpoint)); !st.ok()) Fail(st);
    ReplaceLineage(db, endpoint, name, {}, 0);
    db.Prepare("DELETE FROM deployments WHERE endpoint = ?1 AND name = ?2")
        .BindAll(endpoint, name)
        .Exec();
  });
}

}  // namespace cairn::sqlite
