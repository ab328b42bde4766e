#include "store/migrations.h"

namespace cairn {

const std::vector<std::string>& Migrations() {
  // Portable SQL only (types and syntax both SQLite and PostgreSQL accept);
  // {{TOKENS}} are filled in per dialect by MigrationSql().
  // Append new migrations; never edit a released one.
  static const std::vector<std::string> kMigrations = {
      // 1: tracking (experiments, runs, metrics, params, tags, dataset inputs)
      R"SQL(
CREATE TABLE experiments (
  experiment_id BIGINT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL);
CREATE INDEX experiments_by_creation ON experiments (creation_time, experiment_id);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key));
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time BIGINT,
  end_time BIGINT,
  lifecycle_stage TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  deleted_time BIGINT);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time, run_uuid);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)){{WITHOUT_ROWID}};
CREATE INDEX params_by_key_value ON params (key, value, run_uuid);
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)){{WITHOUT_ROWID}};
CREATE INDEX tags_by_key_value ON tags (key, value, run_uuid);
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  is_nan SMALLINT NOT NULL,
  PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)){{WITHOUT_ROWID}};
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid),
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  is_nan SMALLINT NOT NULL,
  PRIMARY KEY (run_uuid, key)){{WITHOUT_ROWID}};
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, value, run_uuid);
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest));
CREATE TABLE inputs (
  input_uuid TEXT PRIMARY KEY,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  destination_type TEXT NOT NULL,
  destination_id TEXT NOT NULL,
  UNIQUE (source_type, source_id, destination_type, destination_id));
CREATE INDEX inputs_by_destination ON inputs (destination_id, destination_type);
CREATE TABLE input_tags (
  input_uuid TEXT NOT NULL REFERENCES inputs (input_uuid),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (input_uuid, name));
)SQL",
      // 2: versioned assets (data, environments, code), datastores, lineage
      R"SQL(
CREATE TABLE asset_versions (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  version_number BIGINT,
  seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  description TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  file_count BIGINT NOT NULL,
  source TEXT NOT NULL,
  storage_path TEXT NOT NULL,
  spec TEXT NOT NULL,
  archived SMALLINT NOT NULL,
  creation_time BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (kind, name, version));
CREATE INDEX asset_versions_by_seq ON asset_versions (kind, name, seq);
CREATE INDEX asset_versions_by_hash ON asset_versions (kind, content_hash);
CREATE TABLE asset_tags (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, name, version, key)){{WITHOUT_ROWID}};
CREATE TABLE datastores (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  root TEXT NOT NULL,
  description TEXT NOT NULL,
  creation_time BIGINT NOT NULL);
CREATE TABLE lineage_edges (
  src TEXT NOT NULL,
  dst TEXT NOT NULL,
  relation TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  PRIMARY KEY (src, dst, relation)){{WITHOUT_ROWID}};
CREATE INDEX lineage_edges_by_dst ON lineage_edges (dst, src, relation);
)SQL",
      // 3: model registry (registered models, versions, tags, aliases) and the
      // events outbox its changes write in the same transaction.
      R"SQL(
CREATE TABLE registered_models (
  model_id BIGINT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  next_version BIGINT NOT NULL);
CREATE INDEX registered_models_by_updated ON registered_models (last_updated_time, name);
CREATE INDEX registered_models_by_creation ON registered_models (creation_time, name);
CREATE TABLE registered_model_tags (
  model_id BIGINT NOT NULL REFERENCES registered_models (model_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)){{WITHOUT_ROWID}};
CREATE INDEX registered_model_tags_by_key_value ON registered_model_tags (key, value, model_id);
CREATE TABLE model_versions (
  model_id BIGINT NOT NULL REFERENCES registered_models (model_id),
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_link TEXT NOT NULL,
  current_stage TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (model_id, version));
CREATE INDEX model_versions_by_run ON model_versions (run_id, model_id, version);
CREATE INDEX model_versions_by_stage ON model_versions (model_id, current_stage, version);
CREATE INDEX model_versions_by_updated ON model_versions (last_updated_time, model_id, version);
CREATE TABLE model_version_tags (
  model_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)){{WITHOUT_ROWID}};
CREATE INDEX model_version_tags_by_key_value ON model_version_tags (key, value, model_id, version);
CREATE TABLE registered_model_aliases (
  model_id BIGINT NOT NULL REFERENCES registered_models (model_id),
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (model_id, alias),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)){{WITHOUT_ROWID}};
CREATE INDEX registered_model_aliases_by_version ON registered_model_aliases (model_id, version);
CREATE TABLE outbox (
  event_id BIGINT PRIMARY KEY,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  time BIGINT NOT NULL,
  data TEXT NOT NULL,
  delivered_time BIGINT);
CREATE INDEX outbox_by_delivery ON outbox (delivered_time, event_id);
)SQL",
      // 4: pipelines - jobs, their steps (the scheduler's state, so a restarted
      // server can resume them) and the named computes steps run on.
      R"SQL(
CREATE TABLE computes (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  max_concurrency BIGINT NOT NULL,
  description TEXT NOT NULL,
  creation_time BIGINT NOT NULL);
CREATE TABLE jobs (
  name TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  display_name TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  experiment_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  plan TEXT NOT NULL,
  created BIGINT NOT NULL,
  started BIGINT,
  ended BIGINT,
  error TEXT NOT NULL);
CREATE INDEX jobs_by_seq ON jobs (seq);
CREATE INDEX jobs_by_status ON jobs (status, seq);
CREATE TABLE job_steps (
  job_name TEXT NOT NULL REFERENCES jobs (name),
  step_name TEXT NOT NULL,
  position BIGINT NOT NULL,
  status TEXT NOT NULL,
  run_id TEXT NOT NULL,
  attempt BIGINT NOT NULL,
  pid BIGINT,
  process_start BIGINT,
  exit_code BIGINT,
  cache_key TEXT NOT NULL,
  reused_from TEXT NOT NULL,
  outputs TEXT NOT NULL,
  started BIGINT,
  ended BIGINT,
  error TEXT NOT NULL,
  notes TEXT NOT NULL,
  PRIMARY KEY (job_name, step_name)){{WITHOUT_ROWID}};
CREATE INDEX job_steps_by_cache_key ON job_steps (cache_key, status, ended);
)SQL",
      // 5: serving control plane - online endpoints,
      // their deployments and the history of every traffic change. Maps and
      // settings are JSON text (read whole by the serving store, never queried).
      R"SQL(
CREATE TABLE endpoints (
  name TEXT PRIMARY KEY,
  auth_mode TEXT NOT NULL,
  primary_key TEXT NOT NULL,
  secondary_key TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  traffic TEXT NOT NULL,
  mirror_traffic TEXT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL);
CREATE TABLE deployments (
  endpoint TEXT NOT NULL REFERENCES endpoints (name),
  name TEXT NOT NULL,
  model_ref TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  code_ref TEXT NOT NULL,
  scoring_script TEXT NOT NULL,
  environment_ref TEXT NOT NULL,
  instance_count BIGINT NOT NULL,
  request_settings TEXT NOT NULL,
  liveness_probe TEXT NOT NULL,
  readiness_probe TEXT NOT NULL,
  data_collector TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  generation BIGINT NOT NULL,
  state TEXT NOT NULL,
  model_dir TEXT NOT NULL,
  code_dir TEXT NOT NULL,
  python TEXT NOT NULL,
  signature_inputs TEXT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  PRIMARY KEY (endpoint, name));
CREATE TABLE traffic_history (
  endpoint TEXT NOT NULL,
  seq BIGINT NOT NULL,
  changed_by TEXT NOT NULL,
  time BIGINT NOT NULL,
  traffic_before TEXT NOT NULL,
  traffic_after TEXT NOT NULL,
  mirror_before TEXT NOT NULL,
  mirror_after TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (endpoint, seq)){{WITHOUT_ROWID}};
)SQL",
      // 6: schedules (time, data-asset and event triggers that submit a stored
      // job plan) and published pipelines (versioned plans run by REST).
      // Trigger and plan are JSON text, read whole by the schedule store.
      R"SQL(
CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  trigger_spec TEXT NOT NULL,
  plan TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  next_fire_time BIGINT,
  last_fire_time BIGINT,
  last_job TEXT NOT NULL,
  last_error TEXT NOT NULL,
  watched TEXT NOT NULL,
  last_seen_version TEXT NOT NULL,
  last_seen_event_id BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL);
CREATE TABLE published_pipelines (
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  plan TEXT NOT NULL,
  description TEXT NOT NULL,
  created_by TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  PRIMARY KEY (name, version)){{WITHOUT_ROWID}};
)SQL",
      // 7: a job's schedule (the one that submitted it; '' otherwise),
      // indexed so a schedule finds its recent jobs without scanning. Jobs
      // submitted before this migration keep ''.
      R"SQL(
ALTER TABLE jobs ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_schedule ON jobs (schedule, seq);
)SQL",
      // 8: what the serving data plane reported about a deployment's last load
      // (state, error, the model that failed, the generation that serves).
      R"SQL(
ALTER TABLE deployments ADD COLUMN provisioning_state TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN provisioning_error TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN failed_model TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN serving_generation BIGINT NOT NULL DEFAULT 0;
)SQL",
  };
  return kMigrations;
}

std::string MigrationSql(int index, const SqlDialect& dialect) {
  std::string sql = Migrations().at(static_cast<size_t>(index));
  // Clustered primary keys: SQLite stores these tables in their key order,
  // saving a second b-tree per insert; PostgreSQL has no such clause.
  const std::string token = "{{WITHOUT_ROWID}}";
  const std::string value = dialect.name == "sqlite" ? " WITHOUT ROWID" : "";
  for (size_t pos; (pos = sql.find(token)) != std::string::npos;)
    sql.replace(pos, token.size(), value);
  return sql;
}

}  // namespace cairn
