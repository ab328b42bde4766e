// DataStatsService: resolves a data version to its single table file, computes or
// reads its stored statistics, and runs schema inference and validation on them.
#include "assets/data_stats_service.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "data/stats_io.h"
#include "data/table_files.h"
#include "data/table_reader.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

// A private scratch folder removed when it goes out of scope.
class ScratchFolder {
 public:
  ScratchFolder() {
    static std::atomic<int64_t> counter{0};
    path_ = fs::temp_directory_path() /
            ("cairn-datastats-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::create_directories(path_, ec);
    ok_ = !ec;
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  bool ok() const { return ok_; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool ok_ = false;
};

}  // namespace

std::string DataStatsPath(const std::string& content_hash) {
  return "assets/stats/" + content_hash + ".json";
}

DataStatsService::DataStatsService(AssetService& assets, ArtifactStore& artifacts, int threads)
    : assets_(assets), artifacts_(artifacts), threads_(threads) {}

Status DataStatsService::WithTableFile(const AssetVersion& asset,
                                       const std::function<Status(const fs::path&)>& fn) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files, assets_.ListFiles(asset));
  std::vector<std::string> tables;
  for (const FileInfo& f : files) {
    if (!f.is_dir && data::IsTableFileName(f.path)) tables.push_back(f.path);
  }
  const std::string described = asset.name + ":" + asset.version;
  if (tables.size() != 1) {
    return InvalidParameter("data " + described + " holds " + std::to_string(tables.size()) +
                            " table files (" + data::kTableFileKinds +
                            "); statistics of a data version need exactly one");
  }
  int64_t size = 0;
  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, assets_.OpenFile(asset, tables[0], &size));
  ScratchFolder scratch;
  if (!scratch.ok()) return Status(ErrorCode::kIoError, "cannot create a scratch folder");
  // The readers open files by path (and may reopen one for a second pass): a link named
  // like the stored file to the open descriptor gives them the verified blob itself.
  fs::path link = scratch.path() / fs::path(tables[0]).filename();
  std::error_code ec;
  fs::create_symlink("/proc/self/fd/" + std::to_string(fd.get()), link, ec);
  if (ec)
    return Status(ErrorCode::kIoError, "cannot link " + described + "'s table: " + ec.message());
  Status st = fn(link);
  if (!st.ok() && st.code() == ErrorCode::kInvalidParameterValue) {
    // Reader errors name the scratch link; name the version's file instead.
    std::string msg = st.message();
    const std::string from = link.string();
    if (auto pos = msg.find(from); pos != std::string::npos) {
      msg.replace(pos, from.size(), described + "/" + tables[0]);
    }
    return InvalidParameter(msg);
  }
  return st;
}

Result<StoredDataStats> DataStatsService::Stats(const std::string& ref) {
  StoredDataStats out;
  CAIRN_ASSIGN_OR_RETURN(out.asset, assets_.Resolve(kDataAsset, ref));
  const std::string described = out.asset.name + ":" + out.asset.version;
  const std::string path = DataStatsPath(out.asset.content_hash);
  auto read_stored = [&]() -> Result<bool> {
    auto text = artifacts_.Get(path);
    if (!text.ok()) {
      if (text.status().code() == ErrorCode::kResourceDoesNotExist) return false;
      return text.status();
    }
    auto parsed = data::StatsFromJsonText(*text, path);
    if (!parsed.ok()) return false;  // damaged or from an older format: compute again
    out.stats = std::move(*parsed);
    return true;
  };
  CAIRN_ASSIGN_OR_RETURN(bool stored, read_stored());
  if (!stored) {
    std::lock_guard<std::mutex> lock(compute_mu_);
    CAIRN_ASSIGN_OR_RETURN(stored, read_stored());  // another request may have just stored it
    if (!stored) {
      CAIRN_RETURN_IF_ERROR(WithTableFile(out.asset, [&](const fs::path& file) -> Status {
        CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<data::TableReader> reader,
                               data::TableReader::Open(file));
        data::StatsOptions options = data::SchemaStatsOptions();
        options.threads = threads_;
        CAIRN_ASSIGN_OR_RETURN(out.stats, data::ComputeStats(*reader, options));
        return Status::Ok();
      }));
      out.stats.source = "data:" + out.asset.content_hash;
      CAIRN_RETURN_IF_ERROR(
          artifacts_.Put(path, data::StatsToJson(out.stats).dump(
                                   -1, ' ', false, nlohmann::json::error_handler_t::replace)));
      out.computed = true;
    }
  }
  out.stats.source = described;
  return out;
}

Result<data::CompareReport> DataStatsService::Compare(const std::string& ref_a,
                                                      const std::string& ref_b,
                                                      const data::CompareOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(AssetVersion a, assets_.Resolve(kDataAsset, ref_a));
  CAIRN_ASSIGN_OR_RETURN(AssetVersion b, assets_.Resolve(kDataAsset, ref_b));
  data::CompareReport report;
  std::lock_guard<std::mutex> lock(compute_mu_);
  CAIRN_RETURN_IF_ERROR(WithTableFile(a, [&](const fs::path& file_a) -> Status {
    return WithTableFile(b, [&](const fs::path& file_b) -> Status {
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<data::TableReader> reader_a,
                             data::TableReader::Open(file_a));
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<data::TableReader> reader_b,
                             data::TableReader::Open(file_b));
      data::CompareOptions o = options;
      o.stats.threads = threads_;
      CAIRN_ASSIGN_OR_RETURN(report, data::CompareTables(*reader_a, *reader_b, o));
      return Status::Ok();
    });
  }));
  report.a_name = a.name + ":" + a.version;
  report.b_name = b.name + ":" + b.version;
  return report;
}

Result<data::Schema> DataStatsService::InferSchema(const std::string& ref) {
  CAIRN_ASSIGN_OR_RETURN(StoredDataStats s, Stats(ref));
  return data::InferSchema(s.stats);
}

Result<data::ValidationReport> DataStatsService::Validate(const std::string& ref,
                                                          const data::Schema& schema,
                                                          const data::DatasetStats* reference,
                                                          const data::ValidateOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(StoredDataStats s, Stats(ref));
  if (data::ColumnsNeedingConformance(s.stats, schema).empty()) {
    return data::Validate(s.stats, schema, reference, {}, options);
  }
  data::ValidationReport report;
  CAIRN_RETURN_IF_ERROR(WithTableFile(s.asset, [&](const fs::path& file) -> Status {
    CAIRN_ASSIGN_OR_RETURN(report,
                           data::ValidateTable(s.stats, file, {}, schema, reference, options));
    return Status::Ok();
  }));
  return report;
}

}  // namespace cairn
