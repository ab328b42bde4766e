#include "api/server.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/asset_routes.h"
#include "api/data_routes.h"
#include "api/endpoint_routes.h"
#include "api/http_util.h"
#include "api/job_routes.h"
#include "api/registry_routes.h"
#include "api/schedule_routes.h"
#include "api/scoring_routes.h"
#include "api/tracking_routes.h"
#include "artifacts/artifact_store.h"
#include "assets/asset_service.h"
#include "assets/data_stats_service.h"
#include "assets/environment_builder.h"
#include "assets/hash_cache.h"
#include "core/fs.h"
#include "core/version.h"
#include "pipeline/job_service.h"
#include "pipeline/local_executor.h"
#include "pipeline/published_pipelines.h"
#include "pipeline/schedule_runner.h"
#include "pipeline/scheduler.h"
#include "registry/registry_service.h"
#include "serving/endpoint_service.h"
#include "serving/router.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_job_store.h"
#include "store/sqlite/sqlite_registry_store.h"
#include "store/sqlite/sqlite_schedule_store.h"
#include "store/sqlite/sqlite_serving_store.h"
#include "store/sqlite/sqlite_store.h"
#include "tracking/tracking_service.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

void RegisterServiceRoutes(http::Server& s, MetadataStore& store) {
  s.Route("GET", "/health",
          [](const http::Request&, http::Response& res) { res.set_content("OK", "text/plain"); });
  s.Route("GET", "/version", [&store](const http::Request&, http::Response& res) {
    api::WriteJson(
        res,
        {{"version", kVersion}, {"schema_version", store.SchemaVersion()}, {"mlflow_api", "2.0"}});
  });
  // Anything else under the API prefixes is an unknown endpoint, said in MLflow's shape.
  s.Fallback([](const http::Request& req, http::Response& res) {
    if (req.path.rfind("/api/", 0) == 0 || req.path.rfind("/ajax-api/", 0) == 0) {
      return api::WriteError(res, Status(ErrorCode::kEndpointNotFound,
                                         "No API endpoint " + req.method + " " + req.path +
                                             "; see docs/api.md for the routes Cairn serves"));
    }
    res.status = 404;
    res.set_content("Not found: " + req.path + "\n", "text/plain");
  });
  s.OnException([](const std::exception& e, http::Response& res) {
    api::WriteError(res, InternalError(e.what()));
  });
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
  auto artifacts = OpenLocalArtifactStore(ws / "artifacts");
  if (!artifacts.ok()) {
    std::cerr << "cairn: " << artifacts.status().message() << "\n";
    return 1;
  }
  TrackingService tracking(**store, **artifacts);
  sqlite::SqliteAssetStore asset_store(**store);
  // The server's own hash cache serves datastore registrations; without one
  // (unwritable workspace) they only rehash.
  auto hash_cache = HashCache::Open(ws / "hash-cache.db");
  EnvironmentBuilder environments(ws / "envs", options.python);
  AssetService assets(asset_store, **store, **artifacts,
                      hash_cache.ok() ? hash_cache->get() : nullptr, &environments);
  assets.SetDatastoreRoots({options.datastore_roots.begin(), options.datastore_roots.end()});
  sqlite::SqliteRegistryStore registry_store(**store);
  RegistryService registry(registry_store, **store, **artifacts);
  // Lineage names model versions; only the registry knows which exist.
  assets.SetModelVersionChecker([&registry](const std::string& name, const std::string& version) {
    return registry.GetModelVersion(name, version).status();
  });
  // Pipelines: steps run as local processes; the scheduler starts after Bind,
  // once the URL steps report to is known.
  sqlite::SqliteJobStore job_store(**store);
  // Driven by the scheduler's loop: a step's exit wakes one thread.
  pipeline::LocalExecutor executor(/*own_reaper=*/false);
  pipeline::SchedulerOptions scheduler_options;
  scheduler_options.jobs_root = fs::absolute(ws / "jobs");  // steps run in their own folders
  scheduler_options.python_helper_dir = fs::absolute(ws / "tools" / "python");  // cairn_client.py
  scheduler_options.allowed_roots = {options.datastore_roots.begin(),
                                     options.datastore_roots.end()};
  pipeline::Scheduler scheduler(job_store, tracking, assets, **artifacts, executor,
                                scheduler_options);
  pipeline::JobService jobs(job_store, tracking, scheduler);
  if (Status st = jobs.EnsureDefaultCompute(); !st.ok()) {
    std::cerr << "cairn: " << st.message() << "\n";
    return 1;
  }
  // Schedules and published pipelines submit their plans through JobService;
  // data_asset triggers watch the latest version of a data asset.
  sqlite::SqliteScheduleStore schedule_store(**store);
  auto submit_job = [&jobs](pipeline::JobPlan plan,
                            const std::string& user) -> Result<std::string> {
    CAIRN_ASSIGN_OR_RETURN(JobRecord job, jobs.Submit(std::move(plan), user));
    return job.name;
  };
  auto latest_data_version = [&assets](const std::string& name) -> Result<std::string> {
    auto v = assets.Resolve("data", name + "@latest");
    if (!v.ok()) {
      if (v.status().code() == ErrorCode::kResourceDoesNotExist) return std::string();
      return v.status();
    }
    return v->version;
  };
  pipeline::ScheduleRunner schedule_runner(schedule_store, submit_job, latest_data_version);
  pipeline::PublishedPipelines published_pipelines(schedule_store, submit_job);

  // The serving data plane; the control plane applies endpoints to it. It is
  // declared before the HTTP server so it outlives requests in flight.
  serving::RouterOptions serving_options;
  serving_options.log_root = (ws / "serving" / "logs").string();
  serving::Router serving_router(serving_options);
  // The serving control plane validates and stores endpoint changes, then hands
  // each endpoint's whole configuration to the data plane.
  sqlite::SqliteServingStore serving_store(**store);
  serving::EndpointService endpoints(serving_store, registry, assets, serving_router,
                                     fs::absolute(ws / "serving"));
  if (Status st = endpoints.ApplyAll(); !st.ok()) {
    std::cerr << "cairn: loading endpoints: " << st.message() << "\n";
    return 1;
  }

  http::ServerOptions http_options;
  http_options.threads = std::max(4, options.threads);
  http_options.keep_alive_seconds = options.keep_alive_seconds;
  http_options.header_timeout_seconds = options.header_timeout_seconds;
  http_options.spin_microseconds = options.spin_microseconds;
  // Only artifact uploads may be large; JSON bodies keep the default cap.
  http_options.large_body_prefixes = {"/api/2.0/mlflow-artifacts/artifacts/",
                                      "/api/2.0/cairn/blobs"};
  http_options.spool_directory = (*artifacts)->SpoolDirectory().string();
  // Uploads stream to disk in bounded memory, so only the disk bounds them
  // (a full disk fails the upload cleanly); data files of tens of GB are common.
  http_options.max_body_bytes = size_t{1} << 40;
  http::Server server(http_options);
  api::MlflowRouter router;
  RegisterTrackingRoutes(server, router, tracking);
  RegisterRegistryRoutes(server, router, registry);
  router.Install(server);
  RegisterAssetRoutes(server, assets);
  RegisterEndpointRoutes(server, endpoints);
  DataStatsService data_stats(assets, **artifacts);
  RegisterDataRoutes(server, data_stats);
  RegisterScoringRoutes(server, serving_router);
  RegisterJobRoutes(server, jobs);
  RegisterScheduleRoutes(server, schedule_runner, published_pipelines, jobs);
  RegisterServiceRoutes(server, **store);

  int port = server.Bind(options.host, options.port);
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
  std::string url_host =
      options.host == "0.0.0.0" || options.host == "::" ? "127.0.0.1" : options.host;
  scheduler.SetServerUrl("http://" + url_host + ":" + std::to_string(port));
  if (Status st = scheduler.Start(); !st.ok()) {
    std::cerr << "cairn: cannot resume jobs: " << st.message() << "\n";
    return 1;
  }
  // Data-asset and event triggers wake when such rows commit (the poll stays as a safety net).
  (*store)->SetInsertListener(
      {"asset_versions", "outbox"},
      [&schedule_runner](const std::vector<std::string>&) { schedule_runner.NotifyChange(); });
  (void)schedule_runner.Start();  // after the scheduler: firings submit jobs
  std::thread signal_thread([&server, &scheduler, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    scheduler.ReleaseWaiters();  // jobs/wait and jobs/cancel answer at once
    server.Stop();
  });
  std::cout << "cairn " << kVersion << ": workspace " << fs::absolute(ws).string() << " (schema v"
            << LatestSchemaVersion() << ")\n"
            << "listening on http://" << options.host << ":" << port << std::endl;
  server.Run();  // returns after Stop(), once requests in flight are answered
  schedule_runner.Stop();
  (*store)->SetInsertListener({}, nullptr);  // the runner goes before the store
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  std::cout << "cairn: stopped cleanly" << std::endl;
  return 0;
}

}  // namespace cairn
