#include "assets/asset_names.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(AssetNames, AcceptsAzureMlStyleNames) {
  EXPECT_TRUE(IsValidAssetName("a"));
  EXPECT_TRUE(IsValidAssetName("sklearn-env"));
  EXPECT_TRUE(IsValidAssetName("Env_1.2-gpu"));
  EXPECT_TRUE(IsValidAssetName("0day"));
  EXPECT_TRUE(IsValidAssetName(std::string(255, 'x')));
}

TEST(AssetNames, RejectsEverythingElse) {
  EXPECT_FALSE(IsValidAssetName(""));
  EXPECT_FALSE(IsValidAssetName(std::string(256, 'x')));
  EXPECT_FALSE(IsValidAssetName("-leading-dash"));
  EXPECT_FALSE(IsValidAssetName(".hidden"));
  EXPECT_FALSE(IsValidAssetName("_under"));
  EXPECT_FALSE(IsValidAssetName("has space"));
  EXPECT_FALSE(IsValidAssetName("azureml:env"));
  EXPECT_FALSE(IsValidAssetName("a/b"));
  EXPECT_FALSE(IsValidAssetName("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidAssetName(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace cairn
