// Cairn's HTTP/1.1 server behind a small interface: plain Request/Response
// values, exact and prefix routes, a bounded pool of connection workers.
// Boost.Beast parses requests (limits, chunked bodies) inside http_server.cc
// only; I/O is plain blocking sockets so each response leaves in one writev
// and idle connections are closed promptly on Stop(). Server is thread-safe:
// routes are registered before Run(); Stop() may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

struct Request {
  std::string method;                              // "GET", "POST", ...
  std::string path;                                // percent-decoded once
  std::multimap<std::string, std::string> params;  // decoded query parameters
  std::string body;
  // Set instead of `body` for large uploads: the body was spooled to this file.
  // A handler may move the file away; the server deletes it afterwards otherwise.
  std::string body_file;
  // For a spooled body: its SHA-256 (hex) and size, computed while it was
  // received, so content-addressed stores need not read it again.
  std::string body_sha256;
  int64_t body_size = 0;
  std::string match;  // for prefix routes: the part of `path` after the prefix
  // Request header fields as received (names lower-cased), in order.
  std::vector<std::pair<std::string, std::string>> headers;

  bool has_param(const std::string& key) const { return params.count(key) > 0; }
  std::string get_param_value(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
  // The first header field named `lower_name` (give it lower-cased), or "".
  const std::string& get_header(std::string_view lower_name) const {
    static const std::string kEmpty;
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return v;
    }
    return kEmpty;
  }
};

// A response body streamed from an open file (sent with sendfile).
struct FileBody {
  explicit FileBody(int fd, int64_t size) : fd(fd), size(size) {}
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd;
  int64_t size;
};

struct Response {
  int status = 200;
  std::string body;
  std::shared_ptr<FileBody> file;  // when set, the body is this file instead of `body`
  std::string content_type = "text/plain";
  std::vector<std::pair<std::string, std::string>> headers;

  void set_content(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
  void set_header(std::string key, std::string value) {
    headers.emplace_back(std::move(key), std::move(value));
  }
};

using Handler = std::function<void(const Request&, Response&)>;

struct ServerOptions {
  int threads = 64;                  // connections served at once; more wait in the accept queue
  size_t max_queued = 1024;          // connections waiting for a worker; beyond this: 503
  int keep_alive_seconds = 5;        // an idle connection is closed after this
  int header_timeout_seconds = 10;   // from a request's first byte to its complete header
  int request_timeout_seconds = 60;  // for the body, plus time at min_body_bytes_per_second
  uint64_t min_body_bytes_per_second = 1 << 20;
  int spin_microseconds = 100;      // a lone connection polls this long before sleeping
  int shutdown_grace_seconds = 10;  // Stop() waits this long for requests in flight
  size_t max_header_bytes = 64 * 1024;
  size_t max_json_body_bytes = 64u << 20;        // bodies of most routes
  size_t max_body_bytes = size_t{2} << 30;       // PUT bodies under large_body_prefixes
  std::vector<std::string> large_body_prefixes;  // e.g. the artifact upload route
  std::string spool_directory;  // where large uploads are received (empty: in memory)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `path` must equal the request path.
  void Route(const std::string& method, const std::string& path, Handler handler);
  // The request path starts with `prefix`; Request::match holds the rest (non-empty).
  void PrefixRoute(const std::string& method, const std::string& prefix, Handler handler);
  // Called for requests no route matches (default: 404).
  void Fallback(Handler handler);
  // Called when a handler throws; should fill the response (default: 500).
  void OnException(std::function<void(const std::exception&, Response&)> handler);

  // Binds and listens; returns the bound port (useful with port 0) or -1.
  int Bind(const std::string& host, int port);
  // Serves until Stop(); then finishes requests in flight and returns.
  void Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding; with `plus_as_space` ('+' -> ' ') for query strings.
std::string UrlDecode(const std::string& s, bool plus_as_space);

}  // namespace cairn::http
