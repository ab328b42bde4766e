#include "store/asset_ref.h"

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

TEST(AssetRefs, ParsesVersionsLabelsAndTheAzurePrefix) {
  auto v = ParseAssetRef("flights:3");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->name, "flights");
  EXPECT_EQ(v->version, "3");
  auto latest = ParseAssetRef("azureml:flights@latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->name, "flights");
  EXPECT_EQ(latest->label, "latest");
  auto azure = ParseAssetRef("azureml:flights:v2");
  ASSERT_TRUE(azure.ok());
  EXPECT_EQ(azure->version, "v2");
  EXPECT_FALSE(ParseAssetRef("flights").ok());
  EXPECT_TRUE(ParseAssetRef("flights", /*allow_bare_name=*/true).ok());
  EXPECT_FALSE(ParseAssetRef("flights@champion").ok());
  EXPECT_FALSE(ParseAssetRef("flights:").ok());
  EXPECT_FALSE(ParseAssetRef("flights:../1").ok());
  EXPECT_FALSE(ParseAssetRef(":3").ok());
  EXPECT_FALSE(ParseAssetRef("a b:3").ok());
}

TEST(AssetRefs, EntityIdsNameAKnownKind) {
  auto e = ParseEntityId("data:flights:3");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, "data");
  EXPECT_EQ(e->id, "flights:3");
  EXPECT_EQ(e->str(), "data:flights:3");
  EXPECT_TRUE(ParseEntityId("run:0123abcd").ok());
  EXPECT_TRUE(ParseEntityId("deployment:ep/blue").ok());
  EXPECT_FALSE(ParseEntityId("flights:3").ok());
  EXPECT_FALSE(ParseEntityId("run:").ok());
  EXPECT_FALSE(ParseEntityId("nokind").ok());
  EXPECT_FALSE(ParseEntityId(std::string("run:a\nb")).ok());
}

}  // namespace
}  // namespace cairn
