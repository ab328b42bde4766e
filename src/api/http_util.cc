#include "api/http_util.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "artifacts/artifact_store.h"

namespace cairn::api {

void SendArtifact(http::Response& res, ArtifactStore& store, const std::string& store_path,
                  const std::string& display_path) {
  int64_t size = 0;
  auto fd = store.Open(store_path, &size);
  if (!fd.ok()) return WriteError(res, fd.status());
  std::string name = display_path.substr(display_path.rfind('/') + 1);
  res.status = 200;
  res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
  res.content_type = "application/octet-stream";
  res.file = std::make_shared<http::FileBody>(fd->release(), size);
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidParameterValue:
    case ErrorCode::kBadRequest:
    case ErrorCode::kResourceAlreadyExists:
    case ErrorCode::kInvalidState:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kResourceDoesNotExist:
    case ErrorCode::kEndpointNotFound:
      return 404;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kFeatureDisabled:
      return 501;
    case ErrorCode::kTemporarilyUnavailable:
      return 503;
    case ErrorCode::kInternalError:
    case ErrorCode::kIoError:
      return 500;
  }
  return 500;
}

void WriteError(http::Response& res, const Status& status) {
  res.status = HttpStatusFor(status.code());
  Json body = {{"error_code", ErrorCodeName(status.code())}, {"message", status.message()}};
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void WriteJson(http::Response& res, const Json& body) {
  res.status = 200;
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

size_t MaxJsonDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

Args ParseArgs(const http::Request& req) {
  if (req.method == "GET" || req.body.empty()) {
    Json obj = Json::object();
    for (const auto& [k, v] : req.params) {
      auto it = obj.find(k);
      if (it == obj.end()) {
        obj[k] = v;
      } else {
        if (!it->is_array()) *it = Json::array({*it});
        it->push_back(v);
      }
    }
    return Args(std::move(obj));
  }
  // nlohmann's DOM is recursive: bound the nesting before parsing so a hostile
  // body of 100,000 '[' cannot exhaust the stack.
  if (size_t depth = MaxJsonDepth(req.body); depth > kMaxJsonDepth) {
    Args a(Json::object());
    a.Fail(Status(ErrorCode::kBadRequest, "The request body nests JSON " + std::to_string(depth) +
                                              " levels deep; at most " +
                                              std::to_string(kMaxJsonDepth) + " are accepted"));
    return a;
  }
  try {
    Json body = Json::parse(req.body);
    if (!body.is_object()) {
      Args a(Json::object());
      a.Fail(Status(ErrorCode::kBadRequest, "The request body must be a JSON object"));
      return a;
    }
    return Args(std::move(body));
  } catch (const Json::exception& e) {  // syntax errors and out-of-range numbers alike
    Args a(Json::object());
    a.Fail(
        Status(ErrorCode::kBadRequest, std::string("Malformed JSON in request body: ") + e.what()));
    return a;
  }
}

void MlflowRouter::Add(const char* method, const std::string& path, JsonHandler handler) {
  (*table_)[std::string(method) + " " + path] = std::move(handler);
}

void MlflowRouter::Install(http::Server& server) {
  auto table = table_;
  auto dispatch = [table](const http::Request& req, http::Response& res) {
    auto start = std::chrono::steady_clock::now();
    auto it = table->find(req.method + " " + req.match);
    if (it == table->end()) {
      return WriteError(res, Status(ErrorCode::kEndpointNotFound,
                                    "No API endpoint " + req.method + " " + req.path +
                                        "; see docs/api.md for the routes Cairn serves"));
    }
    Args args = ParseArgs(req);
    Result<Json> out = args.ok() ? it->second(args) : Result<Json>(args.status());
    if (!args.ok()) {
      WriteError(res, args.status());
    } else if (!out.ok()) {
      WriteError(res, out.status());
    } else {
      WriteJson(res, *out);
    }
    // Server-side time (parse, work, encode), for clients and benchmarks (W3C Server-Timing).
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    char timing[48] = "app;dur=";
    auto [end, ec] =
        std::to_chars(timing + 8, timing + sizeof timing - 1, ms, std::chars_format::fixed, 3);
    *end = '\0';
    res.set_header("Server-Timing", timing);
  };
  // One prefix route per verb and prefix, then a hash lookup of the endpoint.
  for (const std::string& prefix : prefixes_) {
    for (const char* method : {"GET", "POST", "PATCH", "DELETE"}) {
      server.PrefixRoute(method, prefix, dispatch);
    }
  }
}

}  // namespace cairn::api
