// Versioned assets (data, environments, code snapshots), datastores and the
// lineage graph as plain values. No JSON and no SQL here: the API layer and the
// store backends convert to and from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/entities.h"

namespace cairn {

// The kinds of versioned asset the asset store keeps. Models live in the
// registry; they share the lineage graph, not this table.
inline constexpr const char* kDataAsset = "data";
inline constexpr const char* kEnvironmentAsset = "environment";
inline constexpr const char* kCodeAsset = "code";
// Registered pipeline components (Azure ML's `az ml component create`): the
// component's YAML, its code already a snapshot reference, in `spec`.
inline constexpr const char* kComponentAsset = "component";

// One immutable version of an asset. Files of data and code assets live on the
// artifact store under `storage_path`; `content_hash` identifies their content
// (the manifest hash) or, for environments, the spec that determines the build.
struct AssetVersion {
  std::string kind;
  std::string name;
  std::string version;
  std::string type;  // data: uri_file | uri_folder; environment: python | image | conda; code
  std::string description;
  std::string content_hash;
  int64_t size_bytes = 0;
  int64_t file_count = 0;
  std::string source;        // where the content came from (client path, datastore URI)
  std::string storage_path;  // artifact-store directory holding the files ("" for none)
  std::string spec;          // kind-specific JSON (environment spec, git info)
  bool archived = false;
  int64_t creation_time = 0;
  std::string created_by;
  std::vector<Tag> tags;
};

struct AssetQuery {
  std::string kind;
  std::string name;  // empty: every name (latest version of each)
  bool include_archived = false;
  int64_t max_results = 100;
  int64_t offset = 0;
};

// A named root that data paths (azureml://datastores/<name>/paths/<p>) resolve through.
struct DatastoreInfo {
  std::string name;
  std::string type;  // "local" now; a shared filesystem or S3-compatible type later
  std::string root;
  std::string description;
  int64_t creation_time = 0;
};

// An edge of the lineage graph: `src` was used to produce `dst` (data:flights:3
// -> run:<id> "input"; run:<id> -> model:churn:2 "produced"). Entity ids are
// "<kind>:<id>" strings; see assets/lineage.h for the kinds.
struct LineageEdge {
  std::string src;
  std::string dst;
  std::string relation;
  int64_t creation_time = 0;
};

}  // namespace cairn
