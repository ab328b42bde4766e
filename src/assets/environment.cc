#include "assets/environment.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/fs.h"
#include "store/asset_ref.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAllowedTopLevelKeys =
    "$schema, name, version, description, image, conda_file, tags, python, apt, variables";
constexpr std::string_view kAllowedPythonKeys =
    "requirements, requirements_file, system_site_packages";

// Bad values are echoed back in errors; keep them short and on one line.
std::string Quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value.substr(0, 80)) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (value.size() > 80) out += "...";
  return out + "'";
}

std::string Trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Every field travels as JSON, which requires UTF-8.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool IsDebianPackageName(std::string_view p) {
  // Debian policy: [a-z0-9][a-z0-9+.-]+, optionally ":<arch>".
  std::string_view name = p.substr(0, p.find(':'));
  if (name.size() < 2) return false;
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
  };
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  for (char c : name) {
    if (!ok_char(c)) return false;
  }
  if (name.size() == p.size()) return true;
  std::string_view arch = p.substr(name.size() + 1);
  if (arch.empty()) return false;
  for (char c : arch) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsEnvVarName(std::string_view k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  for (char c : k) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Field checks shared by the YAML and JSON readers: "" when fine, otherwise what
// is wrong and what is expected, without a location.
std::string CheckName(const std::string& name) {
  if (name.empty()) return "name is required";
  if (!IsValidAssetName(name)) {
    return "name must match " + std::string(kAssetNamePattern) + " (got " + Quoted(name) + ")";
  }
  return "";
}

std::string CheckVersion(const std::string& version) {
  if (!version.empty() && !IsValidAssetName(version)) {
    return "version must match " + std::string(kAssetNamePattern) + " (got " + Quoted(version) +
           ")";
  }
  return "";
}

std::string CheckText(const std::string& field, const std::string& value) {
  if (!IsValidUtf8(value)) return field + " must be valid UTF-8";
  return "";
}

std::string CheckImage(const std::string& image) {
  if (image.empty()) return "";
  if (image.size() > 1024 || HasControlChar(image) || image.find(' ') != std::string::npos) {
    return "image must be an image reference such as 'python:3.11-slim' (got " + Quoted(image) +
           ")";
  }
  return CheckText("image", image);
}

std::string CheckCondaText(const std::string& text) {
  if (text.empty()) return "";
  if (!IsValidUtf8(text)) return "conda_file must be valid UTF-8";
  try {
    YAML::Node conda = YAML::Load(text);
    if (!conda.IsMap()) return "conda_file must be a YAML mapping (with channels, dependencies)";
  } catch (const YAML::Exception& e) {
    return "conda_file is not valid YAML: " + e.msg + " at line " +
           std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
  }
  return "";
}

std::string CheckRequirement(const std::string& field, const std::string& req) {
  if (req.empty()) return field + " must not be empty";
  if (HasControlChar(req)) {
    return field + " must be one requirement on one line (got " + Quoted(req) + ")";
  }
  if (req[0] == '-') {
    return field + " is a pip option (" + Quoted(req) +
           "); only requirement strings such as 'numpy>=1.24' are accepted";
  }
  if (req.size() > 1000) return field + " is longer than 1000 characters";
  return CheckText(field, req);
}

std::string CheckAptPackage(const std::string& field, const std::string& pkg) {
  if (!IsDebianPackageName(pkg)) {
    return field + " must be a Debian package name such as 'libgomp1' (got " + Quoted(pkg) + ")";
  }
  return "";
}

std::string CheckVariable(const std::string& key, const std::string& value) {
  if (!IsEnvVarName(key)) {
    return "variables key " + Quoted(key) +
           " must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
  }
  if (value.find('\0') != std::string::npos) return "variables." + key + " must not contain NUL";
  return CheckText("variables." + key, value);
}

std::string CheckTag(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > 250) return "tags keys must be 1-250 characters";
  std::string err = CheckText("tags key", key);
  return err.empty() ? CheckText("tags." + key, value) : err;
}

// ---------------------------------------------------------------- YAML reader

class YamlReader {
 public:
  YamlReader(fs::path base_dir, std::string source)
      : base_dir_(std::move(base_dir)), source_(std::move(source)) {}

  Status Error(const YAML::Mark& mark, const std::string& msg) const {
    if (mark.is_null() || mark.line < 0) return InvalidParameter(source_ + ": " + msg);
    return InvalidParameter(source_ + ":" + std::to_string(mark.line + 1) + ":" +
                            std::to_string(mark.column + 1) + ": " + msg);
  }
  Status ErrorIf(const YAML::Mark& mark, const std::string& msg) const {
    return msg.empty() ? Status::Ok() : Error(mark, msg);
  }

  Result<EnvironmentSpec> Read(std::string_view text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return Error(e.mark, "not valid YAML: " + e.msg);
    }
    try {
      return ReadRoot(root);
    } catch (const YAML::Exception& e) {
      // Only reached if a conversion was not checked first; still a clean error.
      return Error(e.mark, e.msg);
    }
  }

 private:
  Result<EnvironmentSpec> ReadRoot(const YAML::Node& root) const {
    if (!root.IsMap()) {
      return Error(root.Mark(), "an environment file must be a mapping with at least 'name'");
    }
    EnvironmentSpec spec;
    std::set<std::string> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node& key_node = it->first;
      const YAML::Node& value = it->second;
      const YAML::Mark mark = key_node.Mark();
      if (!key_node.IsScalar()) return Error(mark, "keys must be plain strings");
      const std::string key = key_node.Scalar();
      if (!seen.insert(key).second) return Error(mark, "duplicate key '" + key + "'");
      if (key == "$schema") continue;
      if (key == "name") {
        CAIRN_ASSIGN_OR_RETURN(spec.name, String(value, mark, "name"));
        CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckName(spec.name)));
      } else if (key == "version") {
        CAIRN_ASSIGN_OR_RETURN(spec.version, String(value, mark, "version"));
        CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckVersion(spec.version)));
      } else if (key == "description") {
        CAIRN_ASSIGN_OR_RETURN(spec.description, String(value, mark, "description"));
        CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckText("description", spec.description)));
      } else if (key == "image") {
        CAIRN_ASSIGN_OR_RETURN(spec.image, String(value, mark, "image"));
        CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckImage(spec.image)));
      } else if (key == "conda_file") {
        CAIRN_ASSIGN_OR_RETURN(spec.conda_file, CondaFile(value, mark));
      } else if (key == "tags") {
        CAIRN_ASSIGN_OR_RETURN(spec.tags, StringMap(value, mark, "tags"));
        for (const auto& [k, v] : spec.tags) CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckTag(k, v)));
      } else if (key == "python") {
        CAIRN_RETURN_IF_ERROR(Python(value, mark, &spec));
      } else if (key == "apt") {
        CAIRN_ASSIGN_OR_RETURN(spec.apt_packages, StringList(value, mark, "apt"));
        for (size_t i = 0; i < spec.apt_packages.size(); ++i) {
          CAIRN_RETURN_IF_ERROR(
              ErrorIf(value[i].Mark(),
                      CheckAptPackage("apt[" + std::to_string(i) + "]", spec.apt_packages[i])));
        }
      } else if (key == "variables") {
        CAIRN_ASSIGN_OR_RETURN(spec.variables, StringMap(value, mark, "variables"));
        for (const auto& [k, v] : spec.variables) {
          CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckVariable(k, v)));
        }
      } else {
        return Error(mark, "unknown key '" + key + "'; allowed keys are " +
                               std::string(kAllowedTopLevelKeys));
      }
    }
    if (spec.name.empty()) return Error(YAML::Mark::null_mark(), "name is required");
    Status st = ValidateEnvironment(spec);
    if (!st.ok()) return Error(YAML::Mark::null_mark(), st.message());
    return spec;
  }

  Result<std::string> String(const YAML::Node& value, const YAML::Mark& mark,
                             const std::string& field) const {
    if (value.IsNull()) return std::string();
    if (!value.IsScalar()) return Error(mark, field + " must be a string");
    return value.Scalar();
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& value, const YAML::Mark& mark,
                                              const std::string& field) const {
    std::vector<std::string> out;
    if (value.IsNull()) return out;
    if (!value.IsSequence()) return Error(mark, field + " must be a list of strings");
    for (const auto& item : value) {
      if (!item.IsScalar()) return Error(item.Mark(), field + " must be a list of strings");
      out.push_back(Trimmed(item.Scalar()));
    }
    return out;
  }

  Result<std::map<std::string, std::string>> StringMap(const YAML::Node& value,
                                                       const YAML::Mark& mark,
                                                       const std::string& field) const {
    std::map<std::string, std::string> out;
    if (value.IsNull()) return out;
    if (!value.IsMap()) return Error(mark, field + " must be a mapping of names to strings");
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->first.IsScalar() || !(it->second.IsScalar() || it->second.IsNull())) {
        return Error(it->first.Mark(), field + " must be a mapping of names to strings");
      }
      std::string v = it->second.IsNull() ? "" : it->second.Scalar();
      if (!out.emplace(it->first.Scalar(), std::move(v)).second) {
        return Error(it->first.Mark(), "duplicate key '" + it->first.Scalar() + "' in " + field);
      }
    }
    return out;
  }

  fs::path Resolve(const std::string& relative) const {
    fs::path p(relative);
    return p.is_absolute() ? p : base_dir_ / p;
  }

  Result<std::string> CondaFile(const YAML::Node& value, const YAML::Mark& mark) const {
    std::string text;
    if (value.IsNull()) return text;
    if (value.IsMap()) {
      YAML::Emitter out;
      out << value;
      text = out.c_str();
    } else if (value.IsScalar()) {
      fs::path path = Resolve(value.Scalar());
      auto read = ReadFile(path);
      if (!read.ok() || fs::is_directory(path)) {
        return Error(mark, "conda_file: cannot read " + path.string() +
                               " (paths are relative to the environment file)");
      }
      text = std::move(read).value();
    } else {
      return Error(mark, "conda_file must be a path to a conda YAML file or an inline mapping");
    }
    CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckCondaText(text)));
    return text;
  }

  Status Python(const YAML::Node& value, const YAML::Mark& mark, EnvironmentSpec* spec) const {
    if (value.IsNull()) return Status::Ok();
    if (!value.IsMap()) {
      return Error(mark, "python must be a mapping with " + std::string(kAllowedPythonKeys));
    }
    if (value["requirements"] && value["requirements_file"]) {
      return Error(mark, "python: give either requirements or requirements_file, not both");
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Mark key_mark = it->first.Mark();
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      const YAML::Node& v = it->second;
      if (key == "requirements") {
        CAIRN_ASSIGN_OR_RETURN(spec->python_requirements,
                               StringList(v, key_mark, "python.requirements"));
        for (size_t i = 0; i < spec->python_requirements.size(); ++i) {
          CAIRN_RETURN_IF_ERROR(ErrorIf(
              v[i].Mark(), CheckRequirement("python.requirements[" + std::to_string(i) + "]",
                                            spec->python_requirements[i])));
        }
      } else if (key == "requirements_file") {
        CAIRN_ASSIGN_OR_RETURN(std::string file, String(v, key_mark, "python.requirements_file"));
        CAIRN_ASSIGN_OR_RETURN(spec->python_requirements, RequirementsFile(file, key_mark));
      } else if (key == "system_site_packages") {
        bool flag = false;
        if (!v.IsScalar() || !YAML::convert<bool>::decode(v, flag)) {
          return Error(key_mark, "python.system_site_packages must be true or false");
        }
        spec->system_site_packages = flag;
      } else {
        return Error(key_mark, "unknown key 'python." + key + "'; allowed keys are " +
                                   std::string(kAllowedPythonKeys));
      }
    }
    return Status::Ok();
  }

  // pip's requirements-file syntax, restricted to requirement lines: comments,
  // blank lines and backslash continuations are understood; options are refused
  // because they would point outside what the environment records.
  Result<std::vector<std::string>> RequirementsFile(const std::string& file,
                                                    const YAML::Mark& mark) const {
    fs::path path = Resolve(file);
    auto text = ReadFile(path);
    if (!text.ok() || fs::is_directory(path)) {
      return Error(mark, "python.requirements_file: cannot read " + path.string() +
                             " (paths are relative to the environment file)");
    }
    std::vector<std::string> out;
    std::string pending;
    size_t line_no = 0;
    size_t start = 0;
    const std::string& t = *text;
    while (start <= t.size()) {
      size_t end = t.find('\n', start);
      if (end == std::string::npos) end = t.size();
      std::string line = t.substr(start, end - start);
      start = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty() && line.back() == '\\') {
        pending += line.substr(0, line.size() - 1);
        continue;
      }
      line = pending + line;
      pending.clear();
      // A '#' starts a comment at the line start or after whitespace (pip's rule).
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
          line.resize(i);
          break;
        }
      }
      std::string req = Trimmed(line);
      if (req.empty()) continue;
      std::string where = "python.requirements_file " + file + " line " + std::to_string(line_no);
      CAIRN_RETURN_IF_ERROR(ErrorIf(mark, CheckRequirement(where, req)));
      out.push_back(std::move(req));
    }
    return out;
  }

  fs::path base_dir_;
  std::string source_;
};

// ---------------------------------------------------------------- JSON reader

Status JsonError(const std::string& msg) { return InvalidParameter(msg); }

Result<std::string> JsonString(const nlohmann::json& v, const std::string& field,
                               bool allow_number = false) {
  if (v.is_null()) return std::string();
  if (v.is_string()) return v.get<std::string>();
  if (allow_number && v.is_number()) return v.dump();
  return JsonError(field + " must be a string");
}

Result<std::vector<std::string>> JsonStringList(const nlohmann::json& v, const std::string& field) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return JsonError(field + " must be a list of strings");
  for (const auto& item : v) {
    if (!item.is_string()) return JsonError(field + " must be a list of strings");
    out.push_back(Trimmed(item.get<std::string>()));
  }
  return out;
}

Result<std::map<std::string, std::string>> JsonStringMap(const nlohmann::json& v,
                                                         const std::string& field) {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;
  if (!v.is_object()) return JsonError(field + " must be an object of names to strings");
  for (const auto& [k, item] : v.items()) {
    if (!item.is_string()) return JsonError(field + "." + k + " must be a string");
    out[k] = item.get<std::string>();
  }
  return out;
}

// ------------------------------------------------------------------- hashing

void AppendField(std::string* out, std::string_view key, std::string_view value) {
  // Length-prefixed, so no choice of values can make two specs serialize alike.
  *out += key;
  *out += ' ';
  *out += std::to_string(value.size());
  *out += ':';
  *out += value;
  *out += '\n';
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

}  // namespace

Result<EnvironmentSpec> ParseEnvironmentYaml(std::string_view text, const fs::path& base_dir,
                                             std::string_view source_name) {
  return YamlReader(base_dir, std::string(source_name)).Read(text);
}

Result<EnvironmentSpec> LoadEnvironmentYaml(const fs::path& file) {
  auto text = ReadFile(file);
  if (!text.ok() || fs::is_directory(file)) {
    return InvalidParameter("cannot read environment file " + file.string());
  }
  fs::path base = file.parent_path();
  if (base.empty()) base = ".";
  return ParseEnvironmentYaml(*text, base, file.string());
}

Status ValidateEnvironment(const EnvironmentSpec& spec) {
  std::vector<std::string> errors = {CheckName(spec.name), CheckVersion(spec.version),
                                     CheckText("description", spec.description),
                                     CheckImage(spec.image), CheckCondaText(spec.conda_file)};
  for (size_t i = 0; i < spec.python_requirements.size(); ++i) {
    errors.push_back(CheckRequirement("python.requirements[" + std::to_string(i) + "]",
                                      spec.python_requirements[i]));
  }
  for (size_t i = 0; i < spec.apt_packages.size(); ++i) {
    errors.push_back(CheckAptPackage("apt[" + std::to_string(i) + "]", spec.apt_packages[i]));
  }
  for (const auto& [k, v] : spec.variables) errors.push_back(CheckVariable(k, v));
  for (const auto& [k, v] : spec.tags) errors.push_back(CheckTag(k, v));
  for (const auto& e : errors) {
    if (!e.empty()) return InvalidParameter(e);
  }
  return Status::Ok();
}

nlohmann::json ToJson(const EnvironmentSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = spec.name;
  if (!spec.version.empty()) j["version"] = spec.version;
  if (!spec.description.empty()) j["description"] = spec.description;
  if (!spec.image.empty()) j["image"] = spec.image;
  if (!spec.conda_file.empty()) j["conda_file"] = spec.conda_file;
  nlohmann::json python = nlohmann::json::object();
  python["requirements"] = spec.python_requirements;
  python["system_site_packages"] = spec.system_site_packages;
  j["python"] = std::move(python);
  if (!spec.apt_packages.empty()) j["apt"] = spec.apt_packages;
  if (!spec.variables.empty()) j["variables"] = spec.variables;
  if (!spec.tags.empty()) j["tags"] = spec.tags;
  return j;
}

Result<EnvironmentSpec> EnvironmentFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return JsonError("an environment must be a JSON object");
  EnvironmentSpec spec;
  for (const auto& [key, v] : j.items()) {
    if (key == "name") {
      CAIRN_ASSIGN_OR_RETURN(spec.name, JsonString(v, "name"));
    } else if (key == "version") {
      CAIRN_ASSIGN_OR_RETURN(spec.version, JsonString(v, "version", /*allow_number=*/true));
    } else if (key == "description") {
      CAIRN_ASSIGN_OR_RETURN(spec.description, JsonString(v, "description"));
    } else if (key == "image") {
      CAIRN_ASSIGN_OR_RETURN(spec.image, JsonString(v, "image"));
    } else if (key == "conda_file") {
      CAIRN_ASSIGN_OR_RETURN(spec.conda_file, JsonString(v, "conda_file"));
    } else if (key == "python") {
      if (v.is_null()) continue;
      if (!v.is_object()) {
        return JsonError("python must be an object with requirements, system_site_packages");
      }
      for (const auto& [pkey, pv] : v.items()) {
        if (pkey == "requirements") {
          CAIRN_ASSIGN_OR_RETURN(spec.python_requirements,
                                 JsonStringList(pv, "python.requirements"));
        } else if (pkey == "system_site_packages") {
          if (!pv.is_boolean() && !pv.is_null()) {
            return JsonError("python.system_site_packages must be true or false");
          }
          spec.system_site_packages = pv.is_boolean() && pv.get<bool>();
        } else {
          return JsonError("unknown key 'python." + pkey +
                           "'; allowed keys are requirements, system_site_packages");
        }
      }
    } else if (key == "apt") {
      CAIRN_ASSIGN_OR_RETURN(spec.apt_packages, JsonStringList(v, "apt"));
    } else if (key == "variables") {
      CAIRN_ASSIGN_OR_RETURN(spec.variables, JsonStringMap(v, "variables"));
    } else if (key == "tags") {
      CAIRN_ASSIGN_OR_RETURN(spec.tags, JsonStringMap(v, "tags"));
    } else {
      return JsonError("unknown key '" + key +
                       "'; allowed keys are name, version, description, image, conda_file, "
                       "python, apt, variables, tags");
    }
  }
  CAIRN_RETURN_IF_ERROR(ValidateEnvironment(spec));
  return spec;
}

std::string EnvironmentContentHash(const EnvironmentSpec& spec) {
  std::string canonical = "cairn-environment-v1\n";
  AppendField(&canonical, "image", spec.image);
  AppendField(&canonical, "conda_file", spec.conda_file);
  AppendField(&canonical, "python.requirements", std::to_string(spec.python_requirements.size()));
  for (const auto& r : spec.python_requirements) AppendField(&canonical, "-", r);
  AppendField(&canonical, "python.system_site_packages", spec.system_site_packages ? "1" : "0");
  AppendField(&canonical, "apt", std::to_string(spec.apt_packages.size()));
  for (const auto& p : spec.apt_packages) AppendField(&canonical, "-", p);
  AppendField(&canonical, "variables", std::to_string(spec.variables.size()));
  for (const auto& [k, v] : spec.variables) {  // std::map: sorted by name
    AppendField(&canonical, "key", k);
    AppendField(&canonical, "value", v);
  }
  return Sha256Hex(canonical);
}

}  // namespace cairn
