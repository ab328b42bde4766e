// DataStatsService: statistics, schema inference and validation of stored data
// versions. A version's statistics are computed once from its table file on the
// artifact store and kept beside it, keyed by the version's content hash
// (assets/stats/<content hash>.json, where the artifact proxy never writes), so
// versions with the same content share them and later requests only read them.
// Never sees HTTP. Thread-safe; computations run one at a time.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "artifacts/artifact_store.h"
#include "assets/asset_service.h"
#include "core/status.h"
#include "data/compare.h"
#include "data/schema.h"
#include "data/stats.h"
#include "data/validate.h"

namespace cairn {

// Where the statistics of data with this content hash are stored.
std::string DataStatsPath(const std::string& content_hash);

struct StoredDataStats {
  AssetVersion asset;
  data::DatasetStats stats;  // source is the version as "name:version"
  bool computed = false;     // false: read from the store
};

class DataStatsService {
 public:
  DataStatsService(AssetService& assets, ArtifactStore& artifacts, int threads = 2);

  // `ref` is "name:version" or "name@latest". The version must hold exactly one
  // table file (data::IsTableFileName); otherwise INVALID_PARAMETER_VALUE.
  Result<StoredDataStats> Stats(const std::string& ref);
  Result<data::Schema> InferSchema(const std::string& ref);
  // Validates version `ref` against `schema`, comparing with `reference` statistics when
  // given; reads the version's table again only when statistics cannot answer a check.
  Result<data::ValidationReport> Validate(const std::string& ref, const data::Schema& schema,
                                          const data::DatasetStats* reference,
                                          const data::ValidateOptions& options = {});
  // Compares two stored data versions' tables (data/compare.h): both sides'
  // statistics and each feature's drift metrics, the sides labelled
  // "name:version". Reads both files (twice each); runs one at a time with the
  // statistics computations.
  Result<data::CompareReport> Compare(const std::string& ref_a, const std::string& ref_b,
                                      const data::CompareOptions& options = {});

 private:
  // Runs `fn` with a local path to the version's table file (a link to the stored blob,
  // named like the file so readers pick the format from its name).
  Status WithTableFile(const AssetVersion& asset,
                       const std::function<Status(const std::filesystem::path&)>& fn);

  AssetService& assets_;
  ArtifactStore& artifacts_;
  int threads_;
  std::mutex compute_mu_;  // one statistics computation at a time, and each hash once
};

}  // namespace cairn
