#include "tracking/validation.h"

#include <cctype>
#include <map>

namespace cairn {
namespace {

bool ValidNameChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' || c == ':' ||
         c >= 0x80;  // \w in MLflow's regex is Unicode-aware
}

// posixpath.normpath(name) == name, which is how MLflow refuses names that
// would resolve to another name when used as a file path.
bool IsNormalizedPath(const std::string& name) {
  if (name.empty()) return false;
  if (name.front() == '/' || name.back() == '/') return false;
  if (name.rfind("..", 0) == 0) return false;  // MLflow: normpath must not start with ".."

  size_t pos = 0;
  while (pos <= name.size()) {
    size_t next = name.find('/', pos);
    if (next == std::string::npos) next = name.size();
    std::string seg = name.substr(pos, next - pos);
    if (seg.empty() || seg == "." || seg == "..") return false;
    pos = next + 1;
  }
  return true;
}

Status TooLong(const char* what, const std::string& key, size_t len, size_t limit) {
  return InvalidParameter(std::string(what) + " '" + key.substr(0, 100) + "' had length " +
                          std::to_string(len) + ", which exceeded length limit of " +
                          std::to_string(limit));
}

}  // namespace

Status ValidateEntityName(const std::string& name, const char* kind) {
  if (name.empty()) {
    return InvalidParameter(std::string("Invalid ") + kind + " name: ''. Names must not be empty.");
  }
  for (unsigned char c : name) {
    if (!ValidNameChar(c)) {
      return InvalidParameter(std::string("Invalid ") + kind + " name: '" + name.substr(0, 250) +
                              "'. Names may only contain alphanumerics, underscores (_), dashes "
                              "(-), periods (.), spaces ( ), colon(:) and slashes (/).");
    }
  }
  if (!IsNormalizedPath(name)) {
    return InvalidParameter(std::string("Invalid ") + kind + " name: '" + name.substr(0, 250) +
                            "'. Names may be treated as files in certain cases, and must not "
                            "resolve to other names when treated as such (no leading or trailing "
                            "'/', no '.' or '..' segments, no '//').");
  }
  if (name.size() > kMaxEntityKeyLength) {
    return TooLong(kind, name, name.size(), kMaxEntityKeyLength);
  }
  return Status::Ok();
}

Status ValidateParam(const Param& p) {
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(p.key, "parameter"));
  if (p.value.size() > kMaxParamValueLength) {
    return TooLong("Param value for key", p.key, p.value.size(), kMaxParamValueLength);
  }
  return Status::Ok();
}

Status ValidateTag(const Tag& t) {
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(t.key, "tag"));
  if (t.value.size() > kMaxTagValueLength) {
    return TooLong("Tag value for key", t.key, t.value.size(), kMaxTagValueLength);
  }
  return Status::Ok();
}

Status ValidateMetric(const Metric& m) { return ValidateEntityName(m.key, "metric"); }

Status ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                     const std::vector<Tag>& tags) {
  if (metrics.size() > kMaxMetricsPerBatch) {
    return InvalidParameter("A batch logging request can contain at most " +
                            std::to_string(kMaxMetricsPerBatch) + " metrics. Got " +
                            std::to_string(metrics.size()) + " metrics. Split the batch.");
  }
  if (params.size() > kMaxParamsTagsPerBatch) {
    return InvalidParameter("A batch logging request can contain at most " +
                            std::to_string(kMaxParamsTagsPerBatch) + " params. Got " +
                            std::to_string(params.size()) + " params. Split the batch.");
  }
  if (tags.size() > kMaxParamsTagsPerBatch) {
    return InvalidParameter("A batch logging request can contain at most " +
                            std::to_string(kMaxParamsTagsPerBatch) + " tags. Got " +
                            std::to_string(tags.size()) + " tags. Split the batch.");
  }
  if (metrics.size() + params.size() + tags.size() > kMaxEntitiesPerBatch) {
    return InvalidParameter("A batch logging request can contain at most " +
                            std::to_string(kMaxEntitiesPerBatch) +
                            " metrics, params and tags in total. Split the batch.");
  }
  for (const auto& m : metrics) CAIRN_RETURN_IF_ERROR(ValidateMetric(m));
  std::map<std::string, std::string> seen;
  for (const auto& p : params) {
    CAIRN_RETURN_IF_ERROR(ValidateParam(p));
    auto [it, inserted] = seen.emplace(p.key, p.value);
    if (!inserted && it->second != p.value) {
      return InvalidParameter(
          "Duplicate parameter keys have been submitted with different "
          "values: '" +
          p.key + "'. Send each param once.");
    }
  }
  for (const auto& t : tags) CAIRN_RETURN_IF_ERROR(ValidateTag(t));
  return Status::Ok();
}

Status ValidateRunStatus(const std::string& status) {
  if (status == "RUNNING" || status == "SCHEDULED" || status == "FINISHED" || status == "FAILED" ||
      status == "KILLED") {
    return Status::Ok();
  }
  return InvalidParameter("Invalid run status '" + status +
                          "'; expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED");
}

Status ValidateExperimentName(const std::string& name) {
  if (name.empty()) return InvalidParameter("Invalid experiment name: ''. Give it a name.");
  if (name.size() > 500) return InvalidParameter("Experiment name is longer than 500 characters");
  return Status::Ok();
}

Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs) {
  for (const auto& in : inputs) {
    const Dataset& d = in.dataset;
    if (d.name.empty() || d.digest.empty() || d.source_type.empty() || d.source.empty()) {
      return InvalidParameter("Each dataset needs name, digest, source_type and source");
    }
    if (d.name.size() > 500) return TooLong("Dataset name", d.name, d.name.size(), 500);
    if (d.digest.size() > 36) return TooLong("Dataset digest", d.name, d.digest.size(), 36);
    if (d.source.size() > 65535) return TooLong("Dataset source", d.name, d.source.size(), 65535);
    if (d.schema.size() > 1048575) {
      return TooLong("Dataset schema", d.name, d.schema.size(), 1048575);
    }
    if (d.profile.size() > 16777215) {
      return TooLong("Dataset profile", d.name, d.profile.size(), 16777215);
    }
    for (const auto& t : in.tags) {
      if (t.key.empty() || t.key.size() > 255) {
        return InvalidParameter("Input tag keys must be 1 to 255 characters long");
      }
      if (t.value.size() > 500)
        return TooLong("Input tag value for key", t.key, t.value.size(), 500);
    }
  }
  return Status::Ok();
}

}  // namespace cairn
