// Tracking entities as plain values, shaped after MLflow's service.proto
// (Experiment, RunInfo, RunData, Metric, Param, RunTag, DatasetInput). No JSON
// and no SQL here: the API layer and the store backends convert to and from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn {

inline constexpr const char* kActive = "active";
inline constexpr const char* kDeleted = "deleted";

struct Tag {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage = kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string status = "RUNNING";  // RUNNING SCHEDULED FINISHED FAILED KILLED
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage = kActive;
};

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
  std::string run_id;  // filled where a result spans runs (bulk history)
};

struct Param {
  std::string key;
  std::string value;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;
  std::string profile;
};

struct DatasetInput {
  std::vector<Tag> tags;
  Dataset dataset;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> inputs;
};

// What a client asks for when it creates a run.
struct NewRun {
  std::string experiment_id;
  std::string user_id;
  std::string run_name;  // empty: generated
  std::optional<int64_t> start_time;
  std::vector<Tag> tags;
};

// One page of a search plus the token for the next one (empty on the last page).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

}  // namespace cairn
