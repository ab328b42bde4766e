// pipeline/python_helper.cc: installs the embedded Python helper for steps.
// The embedded text itself is generated (cmake/embed_text.cmake).
#include "pipeline/python_helper.h"

#include <fstream>
#include <sstream>

#include "core/fs.h"

namespace cairn::pipeline {

Status InstallPythonHelper(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kIoError,
                  "cannot create the Python helper folder " + dir.string() + ": " + ec.message());
  }
  const std::filesystem::path file = dir / "cairn_client.py";
  {
    std::ifstream in(file, std::ios::binary);
    if (in) {
      std::ostringstream current;
      current << in.rdbuf();
      if (current.str() == PythonClientSource()) return Status::Ok();
    }
  }
  return AtomicWriteFile(file, PythonClientSource());
}

std::string StepPythonPath(const std::filesystem::path& helper_dir, const std::string& inherited) {
  std::string path = helper_dir.string();
  if (!inherited.empty()) path += ":" + inherited;
  return path;
}

}  // namespace cairn::pipeline
