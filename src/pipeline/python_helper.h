// Cairn's standard-library Python helper (clients/python/cairn_client.py) for
// pipeline steps: the binary embeds its source (generated at configure time),
// the server writes it once into a folder of its workspace, and every step's
// PYTHONPATH starts with that folder. So `from cairn_client import Client` in
// a step script works on any machine running the server, with nothing
// installed, and logs into the step's own run (MLFLOW_RUN_ID / CAIRN_RUN_ID).
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace cairn::pipeline {

// The embedded cairn_client.py (generated from clients/python/cairn_client.py).
const std::string& PythonClientSource();

// Writes <dir>/cairn_client.py (atomically) unless it already holds exactly
// the embedded source; creates `dir` when missing.
Status InstallPythonHelper(const std::filesystem::path& dir);

// A step's PYTHONPATH: the helper folder first, then the inherited value
// (an empty inherited value adds nothing, so the current directory is not
// put on the path by accident).
std::string StepPythonPath(const std::filesystem::path& helper_dir, const std::string& inherited);

}  // namespace cairn::pipeline
