#include "core/sha256.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/fs.h"

namespace cairn {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 hash;
  hash.Update("a", 1);
  hash.Update("bc", 2);
  EXPECT_EQ(hash.HexDigest(), Sha256Hex("abc"));
}

TEST(Sha256, FdHashCrossesTheBufferBoundary) {
  std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("cairn-sha256-" + std::to_string(::getpid()));
  std::string data((1 << 20) + 17, 'x');
  data[1 << 20] = 'y';
  ASSERT_TRUE(AtomicWriteFile(file, data).ok());
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  auto got = Sha256OfFd(fd.get(), file);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(got->sha256, Sha256Hex(data));
  std::filesystem::remove(file);
}

TEST(Sha256, FdReadFailureIsAnIoErrorNamingTheFile) {
  UniqueFd fd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // read() on a directory fails
  ASSERT_GE(fd.get(), 0);
  auto got = Sha256OfFd(fd.get(), "/some/file");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kIoError);
  EXPECT_NE(got.status().message().find("/some/file"), std::string::npos);
}

}  // namespace
}  // namespace cairn
