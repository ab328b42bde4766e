// Tests of CompareTables and its renderers: zero drift on identical data, drift in the
// expected direction on shifted data, features on one side only, the bounded-memory paths
// (sampled numerics, recounted categories) against the exact metrics, self-contained HTML.
#include "data/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "data/drift.h"
#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ScratchDir;

Result<CompareReport> CompareFiles(const std::filesystem::path& a, const std::filesystem::path& b,
                                   const CompareOptions& options = {}) {
  CAIRN_ASSIGN_OR_RETURN(auto ra, TableReader::Open(a));
  CAIRN_ASSIGN_OR_RETURN(auto rb, TableReader::Open(b));
  return CompareTables(*ra, *rb, options);
}

const FeatureComparison& Feature(const CompareReport& r, const std::string& name) {
  for (const auto& f : r.features) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no feature " << name;
  static FeatureComparison none;
  return none;
}

// x: normal(mean, 1); city: categorical with the given weights over {Berlin, Paris, Rome}.
std::string MakeCsv(int rows, double mean, std::vector<double> city_weights, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(mean, 1.0);
  std::discrete_distribution<int> city(city_weights.begin(), city_weights.end());
  const char* names[] = {"Berlin", "Paris", "Rome"};
  std::string csv = "x,city,n\n";
  for (int i = 0; i < rows; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", normal(rng));
    csv += std::string(buf) + "," + names[city(rng)] + "," + std::to_string(i % 7) + "\n";
  }
  return csv;
}

TEST(Compare, IdenticalDataHasZeroDrift) {
  ScratchDir dir;
  const std::string csv = MakeCsv(500, 0, {1, 1, 1}, 1);
  auto r = CompareFiles(dir.Write("a.csv", csv), dir.Write("b.csv", csv));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->features.size(), 3u);
  const auto& x = Feature(*r, "x");
  ASSERT_EQ(x.kind, CompareKind::kNumeric);
  EXPECT_EQ(x.numeric.jensen_shannon, 0);
  EXPECT_NEAR(x.numeric.psi, 0, 1e-15);
  EXPECT_EQ(x.numeric.wasserstein, 0);
  EXPECT_EQ(x.numeric.ks.statistic, 0);
  EXPECT_DOUBLE_EQ(x.numeric.ks.p_value, 1);
  EXPECT_FALSE(x.numeric.sampled);
  EXPECT_EQ(x.numeric.ks.method, KsMethod::kExact);
  const auto& city = Feature(*r, "city");
  ASSERT_EQ(city.kind, CompareKind::kCategorical);
  EXPECT_EQ(city.categorical.jensen_shannon, 0);
  EXPECT_EQ(city.categorical.l_infinity, 0);
  EXPECT_NEAR(city.categorical.psi, 0, 1e-15);
  EXPECT_EQ(city.categorical.chi_squared.statistic, 0);
  EXPECT_DOUBLE_EQ(city.categorical.chi_squared.p_value, 1);
  EXPECT_EQ(city.categorical.categories, (std::vector<std::string>{"Berlin", "Paris", "Rome"}));
  EXPECT_EQ(r->drifted_count(), 0);
  EXPECT_EQ(CompareText(*r).find("DRIFT"), std::string::npos);
}

TEST(Compare, ShiftedDataDriftsInTheExpectedDirection) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", MakeCsv(2000, 0, {1, 1, 1}, 1));
  auto small = dir.Write("small.csv", MakeCsv(2000, 0.1, {1, 1, 1}, 2));
  auto large = dir.Write("large.csv", MakeCsv(2000, 1.5, {6, 1, 1}, 3));
  auto rs = CompareFiles(a, small);
  auto rl = CompareFiles(a, large);
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_TRUE(rl.ok()) << rl.status().ToString();
  const auto& xs = Feature(*rs, "x").numeric;
  const auto& xl = Feature(*rl, "x").numeric;
  // A shift of 1.5 standard deviations: W1 about 1.5, so W/std about 1.5.
  EXPECT_NEAR(xl.normalized_wasserstein, 1.5, 0.15);
  EXPECT_LT(xs.normalized_wasserstein, 0.25);
  EXPECT_GT(xl.jensen_shannon, xs.jensen_shannon);
  EXPECT_GT(xl.psi, xs.psi);
  EXPECT_GT(xl.ks.statistic, xs.ks.statistic);
  EXPECT_LT(xl.ks.p_value, 1e-10);
  EXPECT_GT(Feature(*rl, "x").b->numeric.mean, Feature(*rl, "x").a->numeric.mean);
  EXPECT_TRUE(Feature(*rl, "x").drifted);
  // The categorical: Berlin went from a third to three quarters.
  const auto& cs = Feature(*rs, "city").categorical;
  const auto& cl = Feature(*rl, "city").categorical;
  EXPECT_GT(cl.l_infinity, 0.35);
  EXPECT_LT(cs.l_infinity, 0.1);
  EXPECT_GT(cl.jensen_shannon, cs.jensen_shannon);
  EXPECT_LT(cl.chi_squared.p_value, 1e-10);
  EXPECT_EQ(cl.chi_squared.dof, 2);
  EXPECT_TRUE(Feature(*rl, "city").drifted);
  // n is the same on both sides (i % 7).
  EXPECT_FALSE(Feature(*rl, "n").drifted);
  EXPECT_NE(CompareText(*rl).find("DRIFT"), std::string::npos);
}

TEST(Compare, MetricsEqualTheLibraryFunctionsOnTheWholeColumns) {
  ScratchDir dir;
  std::vector<double> va, vb;
  std::string ca = "v\n", cb = "v\n";
  for (int i = 0; i < 300; ++i) {
    const std::string text = std::to_string(i * 0.5);
    va.push_back(std::stod(text));  // the value as the file holds it
    ca += text + "\n";
  }
  for (int i = 0; i < 200; ++i) {
    const std::string text = std::to_string(40 + i * 0.7);
    vb.push_back(std::stod(text));
    cb += text + "\n";
  }
  cb += "NA\n";  // a null is skipped
  auto r = CompareFiles(dir.Write("a.csv", ca), dir.Write("b.csv", cb));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& n = Feature(*r, "v").numeric;
  auto paired = EqualWidthHistograms(va, vb);
  ASSERT_TRUE(paired.ok());
  EXPECT_EQ(n.edges, paired->edges);
  EXPECT_EQ(n.counts_a, paired->reference_counts);
  EXPECT_EQ(n.counts_b, paired->current_counts);
  EXPECT_DOUBLE_EQ(n.jensen_shannon,
                   *JensenShannonDistance(paired->reference_counts, paired->current_counts));
  EXPECT_DOUBLE_EQ(n.psi,
                   *PopulationStabilityIndex(paired->reference_counts, paired->current_counts));
  EXPECT_DOUBLE_EQ(n.wasserstein, *WassersteinDistance(va, vb));
  EXPECT_DOUBLE_EQ(n.normalized_wasserstein, *NormalizedWasserstein(va, vb));
  auto ks = KolmogorovSmirnov(va, vb, KsMethod::kExact);
  ASSERT_TRUE(ks.ok());
  EXPECT_DOUBLE_EQ(n.ks.statistic, ks->statistic);
  EXPECT_DOUBLE_EQ(n.ks.p_value, ks->p_value);
}

TEST(Compare, LargeColumnsAreSampledWithExactBins) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", MakeCsv(5000, 0, {1, 1, 1}, 4));
  auto b = dir.Write("b.csv", MakeCsv(4000, 0.5, {1, 1, 1}, 5));
  CompareOptions sampled;
  sampled.max_sample = 500;
  auto rs = CompareFiles(a, b, sampled);
  CompareOptions whole;
  whole.max_sample = 1'000'000;
  auto rw = CompareFiles(a, b, whole);
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  const auto& s = Feature(*rs, "x").numeric;
  const auto& w = Feature(*rw, "x").numeric;
  EXPECT_TRUE(s.sampled);
  EXPECT_FALSE(w.sampled);
  EXPECT_EQ(s.sample_a, 500);
  EXPECT_EQ(s.sample_b, 500);
  EXPECT_EQ(w.sample_a, 5000);
  EXPECT_EQ(s.ks.method, KsMethod::kAsymptotic);
  // The bins are counted from every value either way.
  EXPECT_EQ(s.counts_a, w.counts_a);
  EXPECT_EQ(s.jensen_shannon, w.jensen_shannon);
  double total = 0;
  for (double c : s.counts_a) total += c;
  EXPECT_EQ(total, 5000);
  // The sample-based metrics approximate the whole-column ones.
  EXPECT_NEAR(s.wasserstein, w.wasserstein, 0.1 * w.wasserstein);
  EXPECT_NEAR(s.ks.statistic, w.ks.statistic, 0.06);
}

TEST(Compare, CategoriesPastTheLimitAreRecountedWithAnOtherBin) {
  ScratchDir dir;
  // A: v0 x50, v1 x40, v2 x30, v3 x20, v4 x10; B: v4 x50, v3 x40, v2 x30, v1 x20, v0 x10.
  std::string ca = "c\n", cb = "c\n";
  for (int k = 0; k < 5; ++k) {
    for (int i = 0; i < (5 - k) * 10; ++i) ca += "v" + std::to_string(k) + "\n";
    for (int i = 0; i < (k + 1) * 10; ++i) cb += "v" + std::to_string(k) + "\n";
  }
  CompareOptions options;
  options.max_categories = 2;
  auto r = CompareFiles(dir.Write("a.csv", ca), dir.Write("b.csv", cb), options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& c = Feature(*r, "c").categorical;
  // The union of the two most frequent of each side, counted exactly on both, then the rest.
  EXPECT_EQ(c.categories, (std::vector<std::string>{"v0", "v1", "v3", "v4", "(other values)"}));
  EXPECT_TRUE(c.has_other);
  EXPECT_EQ(c.counts_a, (std::vector<double>{50, 40, 20, 10, 30}));
  EXPECT_EQ(c.counts_b, (std::vector<double>{10, 20, 40, 50, 30}));
  // Without the limit every category has its own bin; the L-infinity is the same here.
  auto full = CompareFiles(dir.path("a.csv"), dir.path("b.csv"));
  ASSERT_TRUE(full.ok());
  const auto& cf = Feature(*full, "c").categorical;
  EXPECT_FALSE(cf.has_other);
  EXPECT_EQ(cf.categories.size(), 5u);
  EXPECT_DOUBLE_EQ(c.l_infinity, cf.l_infinity);
  EXPECT_DOUBLE_EQ(cf.l_infinity, 40.0 / 150);
}

TEST(Compare, ColumnsOnOneSideAndMismatchedTypesAreReported) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", "id,old,kind,blank\n1,x,3,\n2,y,4,\n");
  auto b = dir.Write("b.jsonl",
                     "{\"kind\":\"big\",\"id\":3,\"new\":1.5,\"blank\":null}\n"
                     "{\"kind\":\"small\",\"id\":4,\"new\":2.5,\"blank\":null}\n");
  auto r = CompareFiles(a, b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> names;
  for (const auto& f : r->features) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "old", "kind", "blank", "new"}));
  EXPECT_EQ(Feature(*r, "id").kind, CompareKind::kNumeric);
  EXPECT_EQ(Feature(*r, "old").kind, CompareKind::kNone);
  EXPECT_EQ(Feature(*r, "old").note, "only in A");
  EXPECT_FALSE(Feature(*r, "old").b.has_value());
  EXPECT_EQ(Feature(*r, "new").note, "only in B");
  EXPECT_FALSE(Feature(*r, "new").a.has_value());
  EXPECT_EQ(Feature(*r, "kind").note, "types differ: int vs string");
  EXPECT_EQ(Feature(*r, "blank").note, "no values in A");
  const std::string text = CompareText(*r);
  EXPECT_NE(text.find("not compared"), std::string::npos);
  EXPECT_NE(text.find("only in B"), std::string::npos);
  auto j = CompareToJson(*r);
  EXPECT_EQ(j["format"], kCompareFormat);
  EXPECT_TRUE(j["features"][1]["b"].is_null());
  EXPECT_EQ(j["features"][4]["note"], "only in B");
  EXPECT_EQ(j["features"][0]["kind"], "numeric");
  EXPECT_EQ(j["features"][0]["a"]["numeric"]["mean"], 1.5);
}

TEST(Compare, HtmlIsSelfContainedAndEscaped) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", "\"<b>x</b>\",city\n1,\"<script>\"\n2,b\n3,Rome\n");
  auto b = dir.Write("b.csv", "\"<b>x</b>\",city,extra\n5,b,1\n6,b,2\n7,c,3\n");
  auto r = CompareFiles(a, b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r->a_name = "train & <test>";
  const std::string html = CompareHtml(*r);
  for (const char* external : {"http://", "https://", "<script src", "<link", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_EQ(html.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("train &amp; &lt;test&gt;"), std::string::npos);
  // The page's own toggle is the only script; the cell "<script>" is text.
  EXPECT_EQ(html.find("<script"), html.rfind("<script"));
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("only in B"), std::string::npos);
  EXPECT_EQ(html, CompareHtml(*r));  // deterministic
}

TEST(Compare, OutputIsDeterministic) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", MakeCsv(3000, 0, {2, 1, 1}, 6));
  auto b = dir.Write("b.csv", MakeCsv(3000, 0.3, {1, 1, 2}, 7));
  CompareOptions one, two;
  one.stats.threads = 1;
  two.stats.threads = 2;
  one.max_sample = two.max_sample = 700;
  auto r1 = CompareFiles(a, b, one);
  auto r2 = CompareFiles(a, b, two);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(CompareToJson(*r1).dump(), CompareToJson(*r2).dump());
  EXPECT_EQ(CompareText(*r1), CompareText(*r2));
  EXPECT_EQ(CompareHtml(*r1), CompareHtml(*r2));
}

TEST(Compare, MalformedInputIsAnError) {
  ScratchDir dir;
  auto a = dir.Write("a.csv", "x\n1\n");
  auto bad = dir.Write("bad.csv", "x,y\n1,\"2\n");
  auto r = CompareFiles(a, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.csv:2"), std::string::npos) << r.status().message();
  CompareOptions options;
  options.max_sample = 0;
  auto zero = CompareFiles(a, a, options);
  EXPECT_EQ(zero.status().code(), ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace cairn::data
