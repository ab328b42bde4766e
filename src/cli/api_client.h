// A small blocking JSON-over-HTTP client for the CLI. Returns the parsed body
// or a Status carrying the server's error_code and message. Not thread-safe
// (one per command). Keeps httplib and nlohmann out of this header.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/status.h"

namespace cairn {

class ApiClient {
 public:
  explicit ApiClient(const std::string& base_url);
  ~ApiClient();

  // GET with query parameters; returns the JSON body text.
  Result<std::string> Get(const std::string& path,
                          const std::multimap<std::string, std::string>& query);
  // POST a JSON body text; returns the JSON body text.
  Result<std::string> Post(const std::string& path, const std::string& json_body);
  // DELETE with a JSON body text (MLflow's delete routes); returns the JSON body text.
  Result<std::string> Delete(const std::string& path, const std::string& json_body);
  // PUT a local file as the body, streamed in chunks (bounded memory). With
  // `sha256_out`, the bytes sent are hashed on the way (one read of the file).
  Result<std::string> PutFile(const std::string& path, const std::string& file,
                              std::string* sha256_out = nullptr);
  // GET into a local file: written to a temp file next to it and renamed into
  // place only when the whole body arrived.
  Status Download(const std::string& path, const std::multimap<std::string, std::string>& query,
                  const std::string& dest);
  // A POST whose answer is returned whatever its HTTP status (scoring routes
  // answer in their own shapes); only a transport failure is an error.
  struct RawResponse {
    int status = 0;
    std::string content_type;
    std::string body;
  };
  Result<RawResponse> PostRaw(const std::string& path, const std::string& body,
                              const std::string& content_type,
                              const std::multimap<std::string, std::string>& headers);
  const std::string& base_url() const { return base_url_; }
  // True when the last failure was a transport error (no HTTP response at all).
  bool unreachable() const { return unreachable_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string base_url_;
  bool unreachable_ = false;
};

}  // namespace cairn
