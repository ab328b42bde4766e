// Datastore: a named root that data paths resolve through
// (azureml://datastores/<name>/paths/<p>, cairn://datastores/<name>/paths/<p>).
// The interface is what registration needs from any backend - list the files
// under a path, and put one file's bytes onto the artifact store - so a shared
// filesystem or an S3-compatible store can implement it later. The local
// backend reads a directory of this machine. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/status.h"
#include "store/asset_entities.h"

namespace cairn {

class HashCache;

struct DatastoreFile {
  std::string path;      // relative to the datastore root
  std::string relative;  // relative to the listed path ("" when it is that file)
  int64_t size = 0;
};

class Datastore {
 public:
  virtual ~Datastore() = default;
  // The regular files at `path` (a file, or a directory walked recursively),
  // sorted. Nothing outside the root is ever listed or read.
  virtual Result<std::vector<DatastoreFile>> ListFiles(const std::string& path) = 0;
  // Puts the file's bytes on `artifacts` as a blob (skipping the copy when the
  // hash cache knows the file and the blob exists already).
  virtual Result<BlobInfo> Ingest(const std::string& path, ArtifactStore& artifacts,
                                  HashCache* cache) = 0;
};

Result<std::unique_ptr<Datastore>> OpenDatastore(const DatastoreInfo& info);

// A parsed datastore URI. Accepts azureml://datastores/<ds>/paths/<p>, Azure's
// long form azureml://subscriptions/../workspaces/../datastores/<ds>/paths/<p>,
// and cairn://datastores/<ds>/paths/<p>. `path` is normalized (may be empty).
struct DatastoreUri {
  std::string datastore;
  std::string path;
};
bool IsDatastoreUri(const std::string& text);
Result<DatastoreUri> ParseDatastoreUri(const std::string& text);

}  // namespace cairn
