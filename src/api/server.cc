#include "api/server.h"

#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/http_util.h"
#include "api/tracking_routes.h"
#include "artifacts/artifact_store.h"
#include "core/fs.h"
#include "core/version.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_store.h"
#include "tracking/tracking_service.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

void RegisterServiceRoutes(httplib::Server& s, MetadataStore& store) {
  s.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("OK", "text/plain");
  });
  s.Get("/version", [&store](const httplib::Request&, httplib::Response& res) {
    api::WriteJson(
        res,
        {{"version", kVersion}, {"schema_version", store.SchemaVersion()}, {"mlflow_api", "2.0"}});
  });
  // Anything else under the API prefixes is an unknown endpoint, said in MLflow's shape.
  auto not_found = [](const httplib::Request& req, httplib::Response& res) {
    api::WriteError(res, Status(ErrorCode::kEndpointNotFound,
                                "No API endpoint " + req.method + " " + req.path +
                                    "; see docs/api.md for the routes Cairn serves"));
  };
  const char* pattern = R"(/(api|ajax-api)/.*)";
  s.Get(pattern, not_found);
  s.Post(pattern, not_found);
  s.Put(pattern, not_found);
  s.Patch(pattern, not_found);
  s.Delete(pattern, not_found);
}

}  // namespace

int RunServer(const ServerOptions& options) {
  // Termination signals are taken by one thread with sigwait, so shutdown runs
  // ordinary code instead of async-signal-unsafe work in a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  fs::path ws = options.workspace;
  if (Status st = EnsureDirectory(ws / "artifacts"); !st.ok()) {
    std::cerr << "cairn: cannot create workspace " << ws << ": " << st.message() << "\n";
    return 1;
  }
  StoreOptions store_options;
  store_options.sync_mode = options.sync_mode;
  auto store = sqlite::SqliteStore::Open((ws / "cairn.db").string(), store_options);
  if (!store.ok()) {
    std::cerr << "cairn: " << store.status().message() << "\n";
    return 1;
  }
  auto artifacts = NewLocalArtifactStore(ws / "artifacts");
  TrackingService tracking(**store, *artifacts);

  httplib::Server server;
  int threads = std::max(4, options.threads);
  // httplib takes ownership of the queue it is handed.
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(1u << 30);
  // Idle keep-alive connections hold a worker and delay shutdown until they
  // time out, so keep this short (gunicorn, under MLflow, uses 2 s).
  server.set_keep_alive_timeout(options.keep_alive_seconds);
  server.set_payload_max_length(size_t{2} << 30);
  server.set_tcp_nodelay(true);
  RegisterTrackingRoutes(server, tracking);
  RegisterServiceRoutes(server, **store);
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unexpected error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        api::WriteError(res, InternalError(what));
      });

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "cairn: cannot listen on " << options.host << ":" << options.port
              << " (in use or not permitted)\n";
    return 1;
  }
  if (!options.port_file.empty()) {
    if (Status st = AtomicWriteFile(options.port_file, std::to_string(port) + "\n"); !st.ok()) {
      std::cerr << "cairn: " << st.message() << "\n";
      return 1;
    }
  }
  std::thread signal_thread([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  std::cout << "cairn " << kVersion << ": workspace " << fs::absolute(ws).string() << " (schema v"
            << LatestSchemaVersion() << ")\n"
            << "listening on http://" << options.host << ":" << port << std::endl;
  bool ok = server.listen_after_bind();
  // listen returned: either stop() ran (signal) or the socket failed.
  if (!ok) {
    std::cerr << "cairn: server stopped unexpectedly\n";
  }
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  std::cout << "cairn: stopped cleanly" << std::endl;
  return 0;
}

}  // namespace cairn
