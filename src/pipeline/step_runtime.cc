#include "pipeline/step_runtime.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/fs.h"
#include "core/sha256.h"

namespace cairn::pipeline {
namespace fs = std::filesystem;

Result<std::vector<size_t>> ValidatePlan(const JobPlan& plan) {
  if (plan.type != "command" && plan.type != "pipeline") {
    return InvalidParameter("job type '" + plan.type + "' is not supported (command or pipeline)");
  }
  if (plan.steps.empty()) return InvalidParameter("the job has no steps");
  if (plan.type == "command" && plan.steps.size() != 1) {
    return InvalidParameter("a command job has exactly one step");
  }
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const StepPlan& s = plan.steps[i];
    if (s.name.empty() || s.name.size() > 255 ||
        s.name.find_first_of("/\\\0", 0, 3) != std::string::npos || s.name == "." ||
        s.name == "..") {
      return InvalidParameter("step name '" + s.name +
                              "' is invalid (1-255 characters, no '/' or '\\')");
    }
    if (!index.emplace(s.name, i).second) {
      return InvalidParameter("two steps are named '" + s.name + "'; step names must be unique");
    }
    if (s.command.empty()) return InvalidParameter("step '" + s.name + "' has no command");
    if (s.timeout_seconds < 0) {
      return InvalidParameter("step '" + s.name + "': limits.timeout must be >= 0");
    }
    if (s.retry.max_attempts < 1 || s.retry.max_attempts > 100) {
      return InvalidParameter("step '" + s.name + "': retry.max_attempts must be 1..100");
    }
    if (s.retry.backoff_seconds < 0 || s.retry.backoff_seconds > 86400) {
      return InvalidParameter("step '" + s.name + "': retry.backoff_seconds must be 0..86400");
    }
    for (const auto& [out, spec] : s.outputs) {
      if (out.empty() || out.find('/') != std::string::npos || out == "." || out == "..") {
        return InvalidParameter("step '" + s.name + "': output name '" + out + "' is invalid");
      }
      if (spec.type != "uri_folder" && spec.type != "uri_file") {
        return InvalidParameter("step '" + s.name + "': output '" + out + "' has type '" +
                                spec.type + "' (uri_folder or uri_file)");
      }
    }
    for (const auto& [in, _] : s.inputs) {
      if (in.empty() || in.find('/') != std::string::npos || in == "." || in == "..") {
        return InvalidParameter("step '" + s.name + "': input name '" + in + "' is invalid");
      }
    }
  }
  // Edges: depends_on plus every step-output binding.
  std::vector<std::set<size_t>> deps(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const StepPlan& s = plan.steps[i];
    auto edge = [&](const std::string& from, const std::string& why) -> Status {
      auto it = index.find(from);
      if (it == index.end()) {
        return InvalidParameter("step '" + s.name + "' " + why + " '" + from +
                                "', which is not a step of this pipeline");
      }
      if (it->second == i) return InvalidParameter("step '" + s.name + "' depends on itself");
      deps[i].insert(it->second);
      return Status::Ok();
    };
    for (const std::string& d : s.depends_on) CAIRN_RETURN_IF_ERROR(edge(d, "depends on"));
    for (const auto& [name, in] : s.inputs) {
      if (in.kind == InputValue::Kind::kStepOutput) {
        CAIRN_RETURN_IF_ERROR(edge(in.from_step, "input '" + name + "' reads step"));
        const StepPlan& producer = plan.steps[index[in.from_step]];
        if (!producer.outputs.count(in.from_output)) {
          return InvalidParameter("step '" + s.name + "' input '" + name + "' reads output '" +
                                  in.from_output + "' of step '" + in.from_step +
                                  "', which declares no such output");
        }
      } else if (in.kind == InputValue::Kind::kParentInput) {
        if (!plan.inputs.count(in.parent_input) && !in.optional) {
          return InvalidParameter("step '" + s.name + "' input '" + name +
                                  "' binds ${{parent.inputs." + in.parent_input +
                                  "}}, which the pipeline does not declare");
        }
        auto p = plan.inputs.find(in.parent_input);
        if (p != plan.inputs.end() && (p->second.kind == InputValue::Kind::kStepOutput ||
                                       p->second.kind == InputValue::Kind::kParentInput)) {
          return InvalidParameter("pipeline input '" + in.parent_input +
                                  "' must be a literal, a file/folder or a data asset");
        }
      }
    }
  }
  // Kahn's algorithm, stable in plan order.
  std::vector<size_t> order;
  std::vector<size_t> pending(plan.steps.size());
  for (size_t i = 0; i < plan.steps.size(); ++i) pending[i] = deps[i].size();
  std::vector<bool> done(plan.steps.size(), false);
  while (order.size() < plan.steps.size()) {
    bool progressed = false;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      if (done[i] || pending[i] != 0) continue;
      done[i] = true;
      order.push_back(i);
      progressed = true;
      for (size_t j = 0; j < plan.steps.size(); ++j) {
        if (deps[j].count(i)) --pending[j];
      }
    }
    if (!progressed) {
      std::string cycle;
      for (size_t i = 0; i < plan.steps.size(); ++i) {
        if (!done[i]) cycle += (cycle.empty() ? "" : ", ") + plan.steps[i].name;
      }
      return InvalidParameter("the pipeline's steps form a cycle (among: " + cycle + ")");
    }
  }
  return order;
}

namespace {

// Finds "${{" ... "}}" expressions in `text`, calling `on_expr(expr)` for each
// and copying the rest; `on_expr` returns the replacement or an error.
Result<std::string> ReplaceExpressions(
    const std::string& text, const std::function<Result<std::string>(const std::string&)>& fn) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${{", pos);
    if (start == std::string::npos) break;
    size_t end = text.find("}}", start + 3);
    if (end == std::string::npos) {
      return InvalidParameter("unterminated ${{ in the command: " + text.substr(start, 40));
    }
    out.append(text, pos, start - pos);
    std::string expr = text.substr(start + 3, end - start - 3);
    expr.erase(0, expr.find_first_not_of(" \t"));
    expr.erase(expr.find_last_not_of(" \t") + 1);
    CAIRN_ASSIGN_OR_RETURN(std::string value, fn(expr));
    out += value;
    pos = end + 2;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace

Result<std::string> SubstituteCommand(const std::string& command,
                                      const std::map<std::string, std::string>& inputs,
                                      const std::map<std::string, std::string>& outputs) {
  auto lookup = [&](const std::string& expr, bool* missing) -> Result<std::string> {
    if (expr.rfind("inputs.", 0) == 0) {
      auto it = inputs.find(expr.substr(7));
      if (it != inputs.end()) return it->second;
      if (missing) {
        *missing = true;
        return std::string();
      }
      return InvalidParameter("the command uses ${{" + expr +
                              "}}, but the step has no such input (or it is optional and absent: "
                              "wrap that part in $[[ ... ]])");
    }
    if (expr.rfind("outputs.", 0) == 0) {
      auto it = outputs.find(expr.substr(8));
      if (it != outputs.end()) return it->second;
      return InvalidParameter("the command uses ${{" + expr + "}}, but the step declares no " +
                              "such output");
    }
    return InvalidParameter("the command uses ${{" + expr +
                            "}}; only ${{inputs.<name>}} and ${{outputs.<name>}} are supported");
  };
  // Optional parts first.
  std::string text;
  size_t pos = 0;
  while (true) {
    size_t start = command.find("$[[", pos);
    if (start == std::string::npos) break;
    size_t end = command.find("]]", start + 3);
    if (end == std::string::npos) {
      return InvalidParameter("unterminated $[[ in the command (close it with ]])");
    }
    text.append(command, pos, start - pos);
    std::string part = command.substr(start + 3, end - start - 3);
    bool missing = false;
    CAIRN_ASSIGN_OR_RETURN(
        std::string replaced,
        ReplaceExpressions(part, [&](const std::string& e) { return lookup(e, &missing); }));
    if (!missing) text += replaced;
    pos = end + 2;
  }
  text.append(command, pos, std::string::npos);
  return ReplaceExpressions(text, [&](const std::string& e) { return lookup(e, nullptr); });
}

std::string StepCacheKey(const CacheKeyParts& p) {
  // Length-prefixed fields, so no two different part lists hash the same text.
  std::string text = "cairn-step-cache-v1";
  auto add = [&text](const std::string& field) {
    text += '\n' + std::to_string(field.size()) + ':' + field;
  };
  add(p.command);
  add(p.code_hash);
  add(p.environment_hash);
  for (const auto* m : {&p.input_hashes, &p.outputs, &p.environment_variables}) {
    add(std::to_string(m->size()));
    for (const auto& [k, v] : *m) {
      add(k);
      add(v);
    }
  }
  return Sha256Hex(text);
}

std::string HashFileList(std::vector<std::pair<std::string, std::string>> files) {
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& [path, sha] : files) text += path + '\0' + sha + '\n';
  return Sha256Hex(text);
}

Result<std::string> HashLocalTree(const fs::path& path) {
  std::error_code ec;
  auto hash_file = [](const fs::path& file) -> Result<std::string> {
    UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Status(ErrorCode::kIoError, "cannot read " + file.string());
    CAIRN_ASSIGN_OR_RETURN(Sha256AndSize h, Sha256OfFd(fd.get(), file));
    return h.sha256;
  };
  if (fs::is_regular_file(path, ec)) {
    CAIRN_ASSIGN_OR_RETURN(std::string sha, hash_file(path));
    return HashFileList({{path.filename().string(), sha}});
  }
  if (!fs::is_directory(path, ec)) {
    return NotFound("'" + path.string() + "' does not exist on the server");
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    CAIRN_ASSIGN_OR_RETURN(std::string sha, hash_file(it->path()));
    files.emplace_back(fs::relative(it->path(), path).generic_string(), sha);
  }
  if (ec) return Status(ErrorCode::kIoError, "cannot list " + path.string() + ": " + ec.message());
  return HashFileList(std::move(files));
}

std::string StepSearchPath(const std::filesystem::path& env_bin,
                           const std::filesystem::path& tools_dir, const std::string& inherited) {
  std::vector<std::string> parts;
  auto add = [&](const std::string& dir) {
    if (!dir.empty() && std::find(parts.begin(), parts.end(), dir) == parts.end()) {
      parts.push_back(dir);
    }
  };
  add(env_bin.string());
  add(tools_dir.string());
  size_t start = 0;
  while (start <= inherited.size()) {
    size_t colon = inherited.find(':', start);
    if (colon == std::string::npos) colon = inherited.size();
    add(inherited.substr(start, colon - start));
    start = colon + 1;
  }
  std::string path;
  for (const auto& p : parts) path += (path.empty() ? "" : ":") + p;
  return path;
}

std::filesystem::path SelfExecutableDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace cairn::pipeline
