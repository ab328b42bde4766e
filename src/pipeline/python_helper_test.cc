// Tests for pipeline/python_helper.h: the embedded helper is the client's
// source, installs idempotently and leads the step's PYTHONPATH.
#include "pipeline/python_helper.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/ids.h"

namespace cairn::pipeline {
namespace {

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("cairn-pyhelper-" + NewRunId())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PythonHelperTest, EmbedsTheStdlibClient) {
  const std::string& src = PythonClientSource();
  EXPECT_NE(src.find("class Client"), std::string::npos);
  EXPECT_NE(src.find("MLFLOW_RUN_ID"), std::string::npos);
  EXPECT_EQ(src.find("CAIRN_EMBED"), std::string::npos);
}

TEST(PythonHelperTest, InstallsOnceAndRepairsAChangedCopy) {
  TempDir tmp;
  auto dir = tmp.path() / "tools" / "python";
  ASSERT_TRUE(InstallPythonHelper(dir).ok());
  EXPECT_EQ(ReadAll(dir / "cairn_client.py"), PythonClientSource());
  std::ofstream(dir / "cairn_client.py") << "stale";
  ASSERT_TRUE(InstallPythonHelper(dir).ok());
  EXPECT_EQ(ReadAll(dir / "cairn_client.py"), PythonClientSource());
}

TEST(PythonHelperTest, FolderCollidingWithAFileIsAnIoError) {
  TempDir tmp;
  std::ofstream(tmp.path() / "python") << "x";
  Status st = InstallPythonHelper(tmp.path() / "python");
  EXPECT_FALSE(st.ok());
}

TEST(PythonHelperTest, StepPythonPathPutsTheHelperFirst) {
  EXPECT_EQ(StepPythonPath("/ws/tools/python", ""), "/ws/tools/python");
  EXPECT_EQ(StepPythonPath("/ws/tools/python", "/opt/lib"), "/ws/tools/python:/opt/lib");
}

}  // namespace
}  // namespace cairn::pipeline
