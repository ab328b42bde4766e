#include "registry/model_gate.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cairn {
namespace {

GateRequest Request(std::optional<double> cand, std::optional<double> champ, bool higher = true,
                    double min_delta = 0) {
  GateRequest r;
  r.candidate = {"churn:3", true, cand};
  r.champion = {"churn@champion", true, champ};
  r.metric = "auc";
  r.higher_is_better = higher;
  r.min_delta = min_delta;
  return r;
}

bool Wins(const GateRequest& r) {
  auto d = DecideChampionChallenger(r);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() && d->win;
}

TEST(ModelGate, HigherIsBetterWinAndLose) {
  EXPECT_TRUE(Wins(Request(0.91, 0.90)));
  EXPECT_FALSE(Wins(Request(0.89, 0.90)));
  auto d = DecideChampionChallenger(Request(0.91, 0.90));
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(*d->delta, 0.01, 1e-12);
}

TEST(ModelGate, LowerIsBetterFlipsTheDirection) {
  EXPECT_TRUE(Wins(Request(0.20, 0.25, false)));
  EXPECT_FALSE(Wins(Request(0.30, 0.25, false)));
  auto d = DecideChampionChallenger(Request(0.20, 0.25, false));
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(*d->delta, -0.05, 1e-12);  // delta stays candidate - champion
}

TEST(ModelGate, TieIsNeverAWin) {
  EXPECT_FALSE(Wins(Request(0.9, 0.9)));
  EXPECT_FALSE(Wins(Request(0.9, 0.9, false)));
  EXPECT_FALSE(Wins(Request(0.9, 0.9, true, 0.0)));
}

TEST(ModelGate, MinDeltaIsInclusiveDespiteBinaryRounding) {
  EXPECT_TRUE(Wins(Request(0.805, 0.800, true, 0.005)));   // exactly the margin
  EXPECT_FALSE(Wins(Request(0.804, 0.800, true, 0.005)));  // short of it
  EXPECT_TRUE(Wins(Request(0.195, 0.200, false, 0.005)));
  EXPECT_FALSE(Wins(Request(0.196, 0.200, false, 0.005)));
}

TEST(ModelGate, MissingMetricIsNotFound) {
  auto c = DecideChampionChallenger(Request(std::nullopt, 0.9));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(c.status().message().find("candidate churn:3"), std::string::npos);
  auto ch = DecideChampionChallenger(Request(0.9, std::nullopt));
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(ch.status().message().find("champion churn@champion"), std::string::npos);
}

TEST(ModelGate, NoChampionNeedsExplicitPermission) {
  GateRequest r = Request(0.9, std::nullopt);
  r.champion.exists = false;
  auto refused = DecideChampionChallenger(r);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--allow-no-champion"), std::string::npos);
  r.allow_no_champion = true;
  auto d = DecideChampionChallenger(r);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->win);
  EXPECT_FALSE(d->delta.has_value());
}

TEST(ModelGate, BadArgumentsAreInvalid) {
  EXPECT_EQ(DecideChampionChallenger(Request(0.9, 0.8, true, -0.1)).status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(DecideChampionChallenger(Request(0.9, 0.8, true, NAN)).status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(DecideChampionChallenger(Request(NAN, 0.8)).status().code(),
            ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace cairn
