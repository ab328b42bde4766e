// HTTP/1.1 server: Boost.Beast's request parser over plain blocking sockets.
// Each connection is served by one worker from a fixed pool; a request is read
// with recv() (the receive timeout doubles as the keep-alive timeout), parsed
// incrementally, dispatched to a route, and answered with one sendmsg() of
// header + body. See http.h for the contract.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <atomic>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <tuple>

#include "api/http.h"
#include "core/sha256.h"

namespace cairn::http {
namespace bhttp = boost::beast::http;

namespace {

// A Beast body for spooled uploads: writes the bytes to a file and hashes them
// on the way, and starts the kernel's writeback every few MiB so the fsync
// that makes the upload durable finds little left to do.
struct SpoolBody {
  struct value_type {
    int fd = -1;
    std::shared_ptr<Sha256> hash = std::make_shared<Sha256>();
    uint64_t written = 0;
    uint64_t flushed = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    explicit reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, boost::system::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      std::size_t total = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const char* p = static_cast<const char*>(it->data());
        std::size_t n = it->size();
        body_.hash->Update(p, n);
        while (n > 0) {
          ssize_t w = ::write(body_.fd, p, n);
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) {
            ec = boost::system::error_code(errno, boost::system::system_category());
            return total;
          }
          p += w;
          n -= static_cast<std::size_t>(w);
          total += static_cast<std::size_t>(w);
          body_.written += static_cast<uint64_t>(w);
        }
      }
      constexpr uint64_t kWriteback = 8 << 20;
      if (body_.written - body_.flushed >= kWriteback) {
        ::sync_file_range(body_.fd, static_cast<off64_t>(body_.flushed),
                          static_cast<off64_t>(body_.written - body_.flushed),
                          SYNC_FILE_RANGE_WRITE);
        body_.flushed = body_.written;
      }
      ec = {};
      return total;
    }
    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Sends all of `iov` (partial writes retried); false when the peer is gone.
bool SendAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// `head_only`: headers of a HEAD answer (Content-Length as for GET, no body).
// `http10`: the client spoke HTTP/1.0, which must be told a connection stays open.
bool SendResponse(int fd, const Response& res, bool keep_alive, bool head_only, bool http10) {
  const int64_t length = res.file ? res.file->size : static_cast<int64_t>(res.body.size());
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + Reason(res.status) +
                     "\r\nContent-Type: " + res.content_type +
                     "\r\nContent-Length: " + std::to_string(length) + "\r\n";
  for (const auto& [k, v] : res.headers) head += k + ": " + v + "\r\n";
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (http10) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  if (res.file) {
    iovec iov{head.data(), head.size()};
    if (!SendAll(fd, &iov, 1)) return false;
    if (head_only) return true;
    // Header sent: from here a failure can only end the connection.
    off_t offset = 0;
    while (offset < res.file->size) {
      ssize_t n =
          ::sendfile(fd, res.file->fd, &offset, static_cast<size_t>(res.file->size - offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
    }
    return true;
  }
  iovec iov[2] = {{head.data(), head.size()},
                  {const_cast<char*>(res.body.data()), res.body.size()}};
  return SendAll(fd, iov, res.body.empty() || head_only ? 1 : 2);
}

void ParseQuery(const std::string& query, std::multimap<std::string, std::string>& out) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key = UrlDecode(pair.substr(0, eq), true);
      std::string value = eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1), true);
      out.emplace(std::move(key), std::move(value));
    }
    pos = amp + 1;
  }
}

struct Connection {
  int fd;
  std::atomic<bool> idle{true};     // waiting for (the start of) its next request
  std::atomic<bool> served{false};  // has answered a request: may be reclaimed while idle
};

}  // namespace

FileBody::~FileBody() {
  if (fd >= 0) ::close(fd);
}

std::string UrlDecode(const std::string& s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

struct Server::Impl {
  ServerOptions options;
  std::map<std::pair<std::string, std::string>, Handler> exact;
  std::vector<std::tuple<std::string, std::string, Handler>> prefixes;  // longest first
  Handler fallback = [](const Request&, Response& res) {
    res.status = 404;
    res.set_content("not found", "text/plain");
  };
  std::function<void(const std::exception&, Response&)> on_exception = [](const std::exception& e,
                                                                          Response& res) {
    res.status = 500;
    res.set_content(e.what(), "text/plain");
  };

  int listen_fd = -1;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> pending;            // accepted, waiting for a worker
  std::set<Connection*> connections;  // being served
  std::condition_variable drained;    // signalled whenever a connection ends

  void Dispatch(Request& req, Response& res) {
    auto it = exact.find({req.method, req.path});
    Handler* handler = it != exact.end() ? &it->second : nullptr;
    if (!handler) {
      for (auto& [method, prefix, h] : prefixes) {
        if (method == req.method && req.path.size() > prefix.size() &&
            req.path.compare(0, prefix.size(), prefix) == 0) {
          req.match = req.path.substr(prefix.size());
          handler = &h;
          break;
        }
      }
    }
    try {
      (handler ? *handler : fallback)(req, res);
    } catch (const std::exception& e) {
      res = Response();
      on_exception(e, res);
    }
  }

  // After an error response: stop sending, drain what the client is still
  // uploading for a moment, so it reads our answer instead of a reset.
  static void DrainAndLeave(int fd) {
    ::shutdown(fd, SHUT_WR);
    timeval brief{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof brief);
    char sink[16 * 1024];
    for (size_t total = 0; total < (4u << 20);) {
      ssize_t n = ::recv(fd, sink, sizeof sink, 0);
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
  }

  bool IsLargeBodyRoute(boost::beast::string_view method, boost::beast::string_view target) const {
    for (const auto& prefix : options.large_body_prefixes) {
      if (method == "PUT" && target.starts_with(boost::beast::string_view(prefix))) return true;
    }
    return false;
  }

  bool spin_ = false;  // set in Run(): options.spin_microseconds > 0 on 2+ cores

  bool LightlyLoaded() {
    std::lock_guard lk(mu);
    return connections.size() <= 1 && pending.empty();
  }

  bool SomeoneIsWaiting() {
    std::lock_guard lk(mu);
    return !pending.empty();
  }

  using Clock = std::chrono::steady_clock;
  enum class Fed { kDone, kClosed, kError };

  // Feeds `p` from `buffered` and then the socket until `done(p)`. `started`
  // says whether any byte of this request has arrived; `deadline` is absolute.
  template <class Parser, class DoneFn>
  Fed Feed(Connection& conn, Parser& p, std::string& buffered, bool& started,
           Clock::time_point& deadline, const DoneFn& done, int& status, std::string& text) {
    char chunk[64 * 1024];
    for (;;) {
      if (done(p)) return Fed::kDone;  // e.g. a request without a body after its header
      if (!buffered.empty()) {
        boost::system::error_code ec;
        size_t used = p.put(boost::asio::buffer(buffered), ec);
        buffered.erase(0, used);
        if (ec == bhttp::error::need_more) ec = {};
        if (ec) {
          status = ec == bhttp::error::body_limit     ? 413
                   : ec == bhttp::error::header_limit ? 431
                                                      : 400;
          text = ec.message();
          return Fed::kError;
        }
        if (done(p)) return Fed::kDone;
        if (used > 0 && !buffered.empty()) continue;
      }
      if (!started) {
        conn.idle = true;
        // Waiting for the next request on a kept-alive connection: give the
        // worker up if the server is stopping or others are queued for one.
        if (stopping || (conn.served && SomeoneIsWaiting())) return Fed::kClosed;
      }
      ssize_t n = -1;
      if (!started && conn.served && spin_ && LightlyLoaded()) {
        // Adaptive busy-poll: with a single connection, its next request often
        // follows within tens of µs, and polling briefly saves a sleep/wake-up
        // pair (tens of µs on a VM) per request. Never with several connections
        // (they keep the cores busy anyway) nor on one core (we would starve
        // the client).
        auto until = Clock::now() + std::chrono::microseconds(options.spin_microseconds);
        do {
          n = ::recv(conn.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        } while (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Clock::now() < until);
      }
      if (n < 0) n = ::recv(conn.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        if (!started) {
          started = true;
          conn.idle = false;
          deadline = Clock::now() + std::chrono::seconds(options.header_timeout_seconds);
        }
        buffered.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) return Fed::kClosed;  // peer closed (mid-request too: nothing to answer)
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // The receive timeout is the keep-alive timeout: an idle connection
        // ends here; a request in progress may go on until its deadline.
        if (!started) return Fed::kClosed;
        if (Clock::now() < deadline) continue;
        status = 408;
        text = "request not received in time";
        return Fed::kError;
      }
      return Fed::kClosed;
    }
  }

  void FailRequest(int fd, int status, const std::string& text) {
    Response res;
    res.status = status;
    res.set_content("malformed, oversized or too slow HTTP request: " + text + "\n", "text/plain");
    SendResponse(fd, res, false, false, false);
    DrainAndLeave(fd);
  }

  // Serves one connection until it closes, times out, errs or the server stops.
  void Serve(Connection& conn) {
    const int fd = conn.fd;
    std::string buffered;  // received, not yet parsed (pipelined requests)
    auto header_done = [](auto& p) { return p.is_header_done(); };
    auto message_done = [](auto& p) { return p.is_done(); };
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
      parser.eager(false);  // stop after the header: limits depend on the route
      bool started = !buffered.empty();
      // Absolute deadlines (not per-byte) so a trickling client cannot hold a worker.
      Clock::time_point deadline =
          Clock::now() + std::chrono::seconds(options.header_timeout_seconds);
      int status = 0;
      std::string text;
      Fed fed = Feed(conn, parser, buffered, started, deadline, header_done, status, text);
      if (fed == Fed::kClosed) return;
      if (fed == Fed::kError) return FailRequest(fd, status, text);
      conn.idle = false;

      auto& head = parser.get();
      // RFC 9112 6.3: a Transfer-Encoding that does not end in chunked cannot be
      // framed; refusing it prevents request smuggling.
      if (head.find(bhttp::field::transfer_encoding) != head.end() && !parser.chunked()) {
        return FailRequest(fd, 400, "unsupported Transfer-Encoding (only chunked is accepted)");
      }
      const bool large = IsLargeBodyRoute(head.method_string(), head.target());
      const size_t limit = large ? options.max_body_bytes : options.max_json_body_bytes;
      if (parser.content_length() && *parser.content_length() > limit) {
        return FailRequest(fd, 413, "request body exceeds " + std::to_string(limit) + " bytes");
      }
      parser.body_limit(static_cast<std::uint64_t>(limit));
      uint64_t expected = parser.content_length().value_or(limit);
      deadline = Clock::now() + std::chrono::seconds(options.request_timeout_seconds) +
                 std::chrono::seconds(expected / options.min_body_bytes_per_second);
      if (boost::beast::iequals(head[bhttp::field::expect], "100-continue") && !parser.is_done()) {
        static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        iovec iov{const_cast<char*>(kContinue), sizeof kContinue - 1};
        if (!SendAll(fd, &iov, 1)) return;
      }

      Request req;
      req.method = std::string(head.method_string());
      const bool head_only = req.method == "HEAD";
      if (head_only) req.method = "GET";  // answered as GET, without the body
      std::string target(head.target());
      size_t q = target.find('?');
      req.path = UrlDecode(target.substr(0, q), false);
      if (q != std::string::npos) ParseQuery(target.substr(q + 1), req.params);
      req.headers.reserve(8);
      for (const auto& field : head) {
        std::string name(field.name_string());
        for (char& c : name) {
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // ASCII: no locale call
        }
        req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      const bool http10 = head.version() == 10;
      bool keep_alive = head.keep_alive();

      if (large && !parser.is_done() && !options.spool_directory.empty()) {
        // Large uploads go to a spool file next to where they will be stored,
        // so memory stays bounded and the file can be renamed into place.
        req.body_file = options.spool_directory + "/upload-" + std::to_string(fd) + "-" +
                        std::to_string(Clock::now().time_since_epoch().count());
        bhttp::request_parser<SpoolBody> spool(std::move(parser));
        int spool_fd = ::open(req.body_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (spool_fd < 0) {
          return FailRequest(fd, 500, std::string("cannot spool the upload: ") + strerror(errno));
        }
        spool.get().body().fd = spool_fd;
        spool.eager(true);
        fed = Feed(conn, spool, buffered, started, deadline, message_done, status, text);
        ::close(spool_fd);
        req.body_sha256 = spool.get().body().hash->HexDigest();
        req.body_size = static_cast<int64_t>(spool.get().body().written);
        if (fed != Fed::kDone) {
          ::unlink(req.body_file.c_str());
          if (fed == Fed::kError) return FailRequest(fd, status, text);
          return;
        }
      } else {
        parser.eager(true);
        fed = Feed(conn, parser, buffered, started, deadline, message_done, status, text);
        if (fed == Fed::kClosed) return;
        if (fed == Fed::kError) return FailRequest(fd, status, text);
        req.body = std::move(parser.get().body());
      }
      keep_alive = keep_alive && !stopping;
      Response res;
      Dispatch(req, res);
      if (!req.body_file.empty()) ::unlink(req.body_file.c_str());  // unless a handler took it
      if (!SendResponse(fd, res, keep_alive, head_only, http10) || !keep_alive) return;
      conn.served = true;
    }
  }

  void Worker() {
    for (;;) {
      int fd;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return !pending.empty() || stopping; });
        if (pending.empty()) return;
        fd = pending.front();
        pending.pop_front();
        if (stopping) {
          ::close(fd);
          continue;
        }
      }
      Connection conn{fd};
      {
        std::lock_guard lk(mu);
        connections.insert(&conn);
      }
      Serve(conn);
      {
        std::lock_guard lk(mu);
        connections.erase(&conn);
      }
      drained.notify_all();
      ::close(fd);
    }
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

Server::~Server() {
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

void Server::Route(const std::string& method, const std::string& path, Handler handler) {
  impl_->exact[{method, path}] = std::move(handler);
}

void Server::PrefixRoute(const std::string& method, const std::string& prefix, Handler handler) {
  auto& p = impl_->prefixes;
  p.emplace_back(method, prefix, std::move(handler));
  std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) {
    return std::get<1>(a).size() > std::get<1>(b).size();
  });
}

void Server::Fallback(Handler handler) { impl_->fallback = std::move(handler); }

void Server::OnException(std::function<void(const std::exception&, Response&)> handler) {
  impl_->on_exception = std::move(handler);
}

int Server::Bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int bound = -1;
  for (addrinfo* ai = found; ai && bound < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      bound = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
      impl_->listen_fd = fd;
    } else {
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  return bound;
}

void Server::Run() {
  Impl& s = *impl_;
  s.spin_ = s.options.spin_microseconds > 0 && std::thread::hardware_concurrency() > 1;
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, s.options.threads); ++i)
    workers.emplace_back([&s] { s.Worker(); });
  timeval idle{s.options.keep_alive_seconds, 0};
  timeval send_timeout{s.options.request_timeout_seconds, 0};
  while (!s.stopping) {
    int fd = ::accept4(s.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      break;  // the listening socket was shut down by Stop()
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    {
      std::lock_guard lk(s.mu);
      if (s.pending.size() >= s.options.max_queued) {
        // Overloaded: say so at once rather than queue without bound.
        static const char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
            "Connection: close\r\n\r\n";
        ::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      s.pending.push_back(fd);
      // Every worker holds a connection: free one that is only idling in
      // keep-alive, so the newcomer does not wait for it to time out.
      if (s.connections.size() >= static_cast<size_t>(s.options.threads)) {
        for (Connection* c : s.connections) {
          if (c->idle && c->served) {
            ::shutdown(c->fd, SHUT_RD);
            break;
          }
        }
      }
    }
    s.cv.notify_one();
  }
  s.stopping = true;
  s.cv.notify_all();
  // Requests in flight get a grace period; then their connections are cut.
  {
    std::unique_lock lk(s.mu);
    s.drained.wait_for(lk, std::chrono::seconds(s.options.shutdown_grace_seconds),
                       [&] { return s.connections.empty(); });
    for (Connection* c : s.connections) ::shutdown(c->fd, SHUT_RDWR);
  }
  for (auto& w : workers) w.join();
}

void Server::Stop() {
  Impl& s = *impl_;
  s.stopping = true;
  if (s.listen_fd >= 0) ::shutdown(s.listen_fd, SHUT_RDWR);
  std::lock_guard lk(s.mu);
  // Idle keep-alive connections are woken and closed now; busy ones finish
  // their request, answer it with "Connection: close" and then close.
  for (Connection* c : s.connections) {
    if (c->idle) ::shutdown(c->fd, SHUT_RD);
  }
  s.cv.notify_all();
}

}  // namespace cairn::http
