#include "cli/api_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/sha256.h"

namespace cairn {

struct ApiClient::Impl {
  explicit Impl(const std::string& url) : client(url) {
    client.set_connection_timeout(5);
    client.set_read_timeout(120);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
  }
  httplib::Client client;
};

ApiClient::ApiClient(const std::string& base_url)
    : impl_(std::make_unique<Impl>(base_url)), base_url_(base_url) {}
ApiClient::~ApiClient() = default;

namespace {

ErrorCode CodeFromName(const std::string& name) {
  static const std::pair<const char*, ErrorCode> kCodes[] = {
      {"INVALID_PARAMETER_VALUE", ErrorCode::kInvalidParameterValue},
      {"BAD_REQUEST", ErrorCode::kBadRequest},
      {"RESOURCE_DOES_NOT_EXIST", ErrorCode::kResourceDoesNotExist},
      {"RESOURCE_ALREADY_EXISTS", ErrorCode::kResourceAlreadyExists},
      {"INVALID_STATE", ErrorCode::kInvalidState},
      {"PERMISSION_DENIED", ErrorCode::kPermissionDenied},
      {"ENDPOINT_NOT_FOUND", ErrorCode::kEndpointNotFound},
      {"RESOURCE_EXHAUSTED", ErrorCode::kResourceExhausted},
      {"TEMPORARILY_UNAVAILABLE", ErrorCode::kTemporarilyUnavailable},
  };
  for (auto& [n, c] : kCodes) {
    if (name == n) return c;
  }
  return ErrorCode::kInternalError;
}

Result<std::string> Interpret(const httplib::Result& res, const std::string& url,
                              bool& unreachable) {
  if (!res) {
    unreachable = true;
    return Status(ErrorCode::kTemporarilyUnavailable,
                  "cannot reach the Cairn server at " + url + " (" +
                      httplib::to_string(res.error()) +
                      "); start one with `cairn server` or set --server / CAIRN_URL");
  }
  unreachable = false;
  if (res->status == 200) return res->body;
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (body.is_object() && body.contains("error_code")) {
    return Status(CodeFromName(body.value("error_code", "")), body.value("message", ""));
  }
  return Status(ErrorCode::kInternalError,
                "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300));
}

}  // namespace

Result<std::string> ApiClient::Get(const std::string& path,
                                   const std::multimap<std::string, std::string>& query) {
  httplib::Params params(query.begin(), query.end());
  return Interpret(impl_->client.Get(path, params, httplib::Headers{}), base_url_, unreachable_);
}

Result<std::string> ApiClient::PutFile(const std::string& path, const std::string& file,
                                       std::string* sha256_out) {
  UniqueFd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (in.get() < 0 || ::fstat(in.get(), &st) != 0) {
    return Status(ErrorCode::kIoError, "cannot read " + file);
  }
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 hash;
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  bool read_failed = false;
  auto res = impl_->client.Put(
      path, static_cast<size_t>(st.st_size),
      [&](size_t offset, size_t length, httplib::DataSink& sink) {
        ssize_t n = ::pread(in.get(), buf.get(), std::min<size_t>(length, 1 << 20),
                            static_cast<off_t>(offset));
        if (n <= 0) {
          read_failed = true;
          return false;
        }
        if (sha256_out) hash.Update(buf.get(), static_cast<size_t>(n));
        return sink.write(buf.get(), static_cast<size_t>(n));
      },
      "application/octet-stream");
  if (read_failed) return Status(ErrorCode::kIoError, "cannot read " + file + " while sending it");
  if (sha256_out) *sha256_out = hash.HexDigest();
  return Interpret(res, base_url_, unreachable_);
}

Status ApiClient::Download(const std::string& path,
                           const std::multimap<std::string, std::string>& query,
                           const std::string& dest) {
  std::string temp = dest + ".cairn-part";
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  if (!out) return Status(ErrorCode::kIoError, "cannot write " + temp);
  std::string error_body;
  int status = 0;
  httplib::Params params(query.begin(), query.end());
  auto res = impl_->client.Get(
      path, params, httplib::Headers{},
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          error_body.append(data, n);
          return true;
        }
        return std::fwrite(data, 1, n, out) == n;
      });
  bool flushed = std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
  std::fclose(out);
  if (!res || res->status != 200 || !flushed) {
    std::remove(temp.c_str());
    if (res && res->status != 200) {
      res->body = error_body;
      return Interpret(res, base_url_, unreachable_).status();
    }
    if (!res) return Interpret(res, base_url_, unreachable_).status();
    return Status(ErrorCode::kIoError, "cannot write " + dest);
  }
  if (std::rename(temp.c_str(), dest.c_str()) != 0) {
    std::remove(temp.c_str());
    return Status(ErrorCode::kIoError, "cannot move the download onto " + dest);
  }
  return Status::Ok();
}

Result<std::string> ApiClient::Post(const std::string& path, const std::string& json_body) {
  return Interpret(impl_->client.Post(path, json_body, "application/json"), base_url_,
                   unreachable_);
}

Result<std::string> ApiClient::Delete(const std::string& path, const std::string& json_body) {
  return Interpret(impl_->client.Delete(path, json_body, "application/json"), base_url_,
                   unreachable_);
}

Result<ApiClient::RawResponse> ApiClient::PostRaw(
    const std::string& path, const std::string& body, const std::string& content_type,
    const std::multimap<std::string, std::string>& headers) {
  httplib::Headers h(headers.begin(), headers.end());
  auto res = impl_->client.Post(path, h, body, content_type);
  if (!res) {
    unreachable_ = true;
    return Status(ErrorCode::kTemporarilyUnavailable, "cannot reach the Cairn server at " +
                                                          base_url_ + " (" +
                                                          httplib::to_string(res.error()) + ")");
  }
  unreachable_ = false;
  return RawResponse{res->status, res->get_header_value("Content-Type"), res->body};
}

}  // namespace cairn
