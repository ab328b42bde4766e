// serving/worker_runtime.h: the worker-process runtime — a pool of
// instance_count processes, each running the deployment's scoring script
// (Azure ML style: init() once, run(raw_data) per request) and answering one
// request at a time over a Unix socket with length-prefixed frames (the
// protocol is in docs/serving.md). A `.py` script runs under Cairn's Python
// adapter (embedded in the binary, stdlib only); any other script must be an
// executable speaking the protocol itself. A worker that dies is restarted in
// the background and its in-flight request answered 500; a request past its
// deadline is answered 504 and its worker replaced (its answer would be stale).
#pragma once

#include <memory>
#include <string>

#include "serving/runtime.h"

namespace cairn::serving {

Result<std::unique_ptr<Runtime>> LoadWorkerRuntime(const DeploymentConfig& config,
                                                   const LogSink& log);

// The Python adapter's source (what `python -c` runs for a .py script).
const std::string& PythonAdapterSource();

}  // namespace cairn::serving
