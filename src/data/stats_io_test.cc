#include "data/stats_io.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ScratchDir;

DatasetStats StatsOfText(const ScratchDir& dir, const std::string& csv) {
  auto path = dir.Write("t.csv", csv);
  auto reader = TableReader::Open(path);
  EXPECT_TRUE(reader.ok());
  auto stats = ComputeStats(**reader);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return *stats;
}

TEST(StatsIo, RoundTripsEveryField) {
  ScratchDir dir;
  DatasetStats stats =
      StatsOfText(dir, "x,y,s,b\n1,0.5,a,true\n2,NaN,b,false\n3,inf,a,true\n,2.5,,false\n");
  nlohmann::json j = StatsToJson(stats);
  auto back = StatsFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(StatsToJson(*back), j);
  EXPECT_EQ(back->num_rows, 4);
  EXPECT_EQ(back->features[1].numeric.nan, 1);
  EXPECT_EQ(back->features[2].string.top_k[0].value, "a");
}

TEST(StatsIo, NullNumbersReadAsNan) {
  ScratchDir dir;
  DatasetStats stats = StatsOfText(dir, "x\nNaN\nNaN\n");  // a float column without finite values
  auto back = StatsFromJson(StatsToJson(stats));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->features[0].has_numeric);
  EXPECT_TRUE(std::isnan(back->features[0].numeric.mean));
}

TEST(StatsIo, ErrorsNameTheField) {
  ScratchDir dir;
  nlohmann::json j = StatsToJson(StatsOfText(dir, "x\n1\n"));
  j["features"][0]["numeric"]["mean"] = "high";
  auto r = StatsFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("features[0].numeric.mean"), std::string::npos)
      << r.status().message();

  j = StatsToJson(StatsOfText(dir, "x\n1\n"));
  j["format"] = "other/1";
  EXPECT_NE(StatsFromJson(j).status().message().find("cairn.stats/1"), std::string::npos);

  j.erase("format");
  EXPECT_NE(StatsFromJson(j).status().message().find("missing field 'format'"), std::string::npos);

  j = StatsToJson(StatsOfText(dir, "x\n1\n"));
  j["features"][0]["type"] = "complex";
  EXPECT_NE(StatsFromJson(j).status().message().find("features[0].type"), std::string::npos);

  auto text = StatsFromJsonText("{not json", "ref.json");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(text.status().message().find("ref.json"), std::string::npos);
}

}  // namespace
}  // namespace cairn::data
