// The `cairn server` process: opens (or creates) a workspace, serves the REST
// API over HTTP until SIGTERM/SIGINT, then drains and closes cleanly.
#pragma once

#include <string>
#include <vector>

namespace cairn {

struct ServerOptions {
  std::string workspace = "cairn-workspace";
  std::string host = "127.0.0.1";
  int port = 5050;        // 0 picks a free port
  std::string port_file;  // written (atomically) with the bound port once listening
  int threads = 64;       // HTTP worker threads; each open keep-alive connection holds one
  int keep_alive_seconds = 5;
  int header_timeout_seconds = 10;  // a request's header must arrive within this
  int spin_microseconds = 100;      // adaptive busy-poll for a lone connection (0: off)  // idle
                                    // keep-alive connections close after this; bounds shutdown time
  std::string sync_mode = "normal";  // "normal" (survives kill -9) or "full" (survives power loss)
  std::string python = "python3";    // the interpreter environments are built with
  // Folders datastores may point into (empty: any folder the server can read).
  std::vector<std::string> datastore_roots;
};

// Blocks until a termination signal; returns the process exit code.
int RunServer(const ServerOptions& options);

}  // namespace cairn
