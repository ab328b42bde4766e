#include "data/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/fs.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// drift_fixtures.json beside this file, written by testdata/make_drift_fixtures.py with
// scipy. __FILE__ may be relative to the build directory (ccache's base_dir), which is where
// the test binary lives.
const json& Fixtures() {
  static const json fixtures = [] {
    fs::path here = fs::path(__FILE__).parent_path() / "testdata" / "drift_fixtures.json";
    if (here.is_relative()) {
      std::error_code ec;
      here = fs::read_symlink("/proc/self/exe", ec).parent_path() / here;
    }
    auto text = ReadFile(here);
    EXPECT_TRUE(text.ok()) << here << ": " << text.status().ToString();
    return text.ok() ? json::parse(*text) : json::object();
  }();
  return fixtures;
}

std::vector<double> Doubles(const json& j) { return j.get<std::vector<double>>(); }

// Distances and statistics: 1e-9 relative to max(1, |expected|).
void ExpectClose(double actual, double expected, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), 1e-9 * std::max(1.0, std::abs(expected)))
      << what << ": got " << actual << ", scipy says " << expected;
}

// Probabilities, down to the far tail: 1e-9 relative.
void ExpectRelative(double actual, double expected, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), 1e-9 * std::abs(expected))
      << what << ": got " << actual << ", scipy says " << expected;
}

TEST(DriftFixtures, AreLoaded) {
  ASSERT_TRUE(Fixtures().contains("samples"));
  EXPECT_GE(Fixtures()["samples"].size(), 8u);
}

TEST(DriftScipy, WassersteinMatchesScipy) {
  for (const auto& c : Fixtures()["samples"]) {
    std::string name = c["name"];
    auto a = Doubles(c["a"]), b = Doubles(c["b"]);
    auto w = WassersteinDistance(a, b);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ExpectClose(*w, c["wasserstein"], name + " wasserstein");
    auto sd = PopulationStd(a);
    ASSERT_TRUE(sd.ok());
    ExpectClose(*sd, c["std_a"], name + " std");
    auto nw = NormalizedWasserstein(a, b);
    ASSERT_TRUE(nw.ok());
    ExpectClose(*nw, c["normalized_wasserstein"], name + " normalized wasserstein");
  }
}

TEST(DriftScipy, KolmogorovSmirnovMatchesScipy) {
  for (const auto& c : Fixtures()["samples"]) {
    std::string name = c["name"];
    auto a = Doubles(c["a"]), b = Doubles(c["b"]);
    auto exact = KolmogorovSmirnov(a, b, KsMethod::kExact);
    ASSERT_TRUE(exact.ok()) << exact.status().ToString();
    EXPECT_EQ(exact->method, KsMethod::kExact);
    ExpectClose(exact->statistic, c["ks_statistic"], name + " KS statistic");
    ExpectRelative(exact->p_value, c["ks_exact_p"], name + " KS exact p");

    // These sizes are within scipy's 'auto' exact range, so auto gives the same answer.
    auto automatic = KolmogorovSmirnov(a, b);
    ASSERT_TRUE(automatic.ok());
    EXPECT_EQ(automatic->method, KsMethod::kExact);
    ExpectRelative(automatic->p_value, c["ks_auto_p"], name + " KS auto p");

    auto limit = KolmogorovSmirnov(a, b, KsMethod::kAsymptotic);
    ASSERT_TRUE(limit.ok());
    ExpectRelative(limit->p_value, c["ks_limit_p"], name + " KS limiting p");
  }
}

TEST(DriftScipy, KolmogorovSmirnovSwitchesToAsymptoticForLargeSamples) {
  const auto& c = Fixtures()["big"];
  auto a = Doubles(c["a"]), b = Doubles(c["b"]);
  auto ks = KolmogorovSmirnov(a, b);
  ASSERT_TRUE(ks.ok());
  EXPECT_EQ(ks->method, KsMethod::kAsymptotic);
  ExpectClose(ks->statistic, c["ks_statistic"], "large KS statistic");
  ExpectRelative(ks->p_value, c["ks_limit_p"], "large KS limiting p");
  // scipy's own 'asymp' uses the finite-n distribution kstwo(round(en)); the limit is close.
  EXPECT_NEAR(ks->p_value, c["scipy_asymp_p"].get<double>(), 0.01);
}

TEST(DriftScipy, HistogramsMatchNumpyOnSturgesBins) {
  for (const auto& c : Fixtures()["samples"]) {
    std::string name = c["name"];
    auto a = Doubles(c["a"]), b = Doubles(c["b"]);
    EXPECT_EQ(SturgesBins(static_cast<int64_t>(a.size() + b.size())), c["bins"].get<int>());
    auto h = EqualWidthHistograms(a, b);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    auto edges = Doubles(c["edges"]);
    ASSERT_EQ(h->edges.size(), edges.size()) << name;
    for (size_t i = 0; i < edges.size(); ++i) ExpectClose(h->edges[i], edges[i], name + " edge");
    EXPECT_EQ(h->reference_counts, Doubles(c["hist_a"])) << name;
    EXPECT_EQ(h->current_counts, Doubles(c["hist_b"])) << name;
    auto js = JensenShannonDistance(h->reference_counts, h->current_counts);
    ASSERT_TRUE(js.ok());
    ExpectClose(*js, c["js_hist"], name + " binned JS");
    auto psi = PopulationStabilityIndex(h->reference_counts, h->current_counts);
    ASSERT_TRUE(psi.ok());
    ExpectClose(*psi, c["psi_hist"], name + " binned PSI");
  }
}

TEST(DriftScipy, CountMetricsMatchScipy) {
  int i = 0;
  for (const auto& c : Fixtures()["counts"]) {
    std::string name = "counts case " + std::to_string(i++);
    auto p = Doubles(c["p"]), q = Doubles(c["q"]);
    auto js = JensenShannonDistance(p, q);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    ExpectClose(*js, c["js"], name + " JS");
    auto psi = PopulationStabilityIndex(p, q);
    ASSERT_TRUE(psi.ok());
    ExpectClose(*psi, c["psi"], name + " PSI");
    auto linf = LInfinity(p, q);
    ASSERT_TRUE(linf.ok());
    ExpectClose(*linf, c["linf"], name + " L-infinity");
    auto chi = ChiSquaredContingency(p, q);
    ASSERT_TRUE(chi.ok()) << chi.status().ToString();
    ExpectClose(chi->statistic, c["chi2"], name + " chi2");
    ExpectRelative(chi->p_value, c["chi2_p"], name + " chi2 p");
    EXPECT_EQ(chi->dof, c["chi2_dof"].get<int64_t>()) << name;
  }
}

TEST(DriftScipy, SpecialFunctionsMatchScipy) {
  for (const auto& c : Fixtures()["chi2_sf"]) {
    double x = c["x"], dof = c["dof"], sf = c["sf"];
    if (sf < 1e-300) continue;  // underflows in scipy; nothing to compare relatively
    ExpectRelative(ChiSquaredSurvival(x, dof), sf,
                   "chi2.sf(" + std::to_string(x) + ", " + std::to_string(dof) + ")");
  }
  for (const auto& c : Fixtures()["kolmogorov_sf"]) {
    double y = c["y"];
    ExpectRelative(KolmogorovSurvival(y), c["sf"], "kolmogorov(" + std::to_string(y) + ")");
  }
}

// ---- Properties that hold whatever scipy says ----------------------------------------------

TEST(DriftProperties, JensenShannonIsSymmetricBoundedAndZeroOnIdentical) {
  std::vector<double> p = {3, 1, 4, 1, 5}, q = {2, 7, 1, 8, 2};
  EXPECT_DOUBLE_EQ(*JensenShannonDistance(p, q), *JensenShannonDistance(q, p));
  EXPECT_EQ(*JensenShannonDistance(p, p), 0.0);
  // Proportions, not counts: scaling one side changes nothing.
  std::vector<double> p10 = {30, 10, 40, 10, 50};
  EXPECT_NEAR(*JensenShannonDistance(p, p10), 0.0, 1e-15);
  EXPECT_NEAR(*JensenShannonDistance(std::vector<double>{1, 0}, std::vector<double>{0, 1}), 1.0,
              1e-15);
  double js = *JensenShannonDistance(p, q);
  EXPECT_GT(js, 0.0);
  EXPECT_LT(js, 1.0);
}

TEST(DriftProperties, PsiIsZeroOnIdenticalAndFiniteWithEmptyBins) {
  std::vector<double> p = {10, 0, 5}, q = {0, 10, 5};
  EXPECT_EQ(*PopulationStabilityIndex(p, p), 0.0);
  auto psi = PopulationStabilityIndex(p, q);
  ASSERT_TRUE(psi.ok());
  EXPECT_TRUE(std::isfinite(*psi));
  // Two bins swap 2/3 against epsilon: 2 * (2/3 - 1e-4) * ln((2/3) / 1e-4).
  EXPECT_NEAR(*psi, 2 * (2.0 / 3 - 1e-4) * std::log((2.0 / 3) / 1e-4), 1e-12);
  // A larger epsilon softens the same drift.
  EXPECT_LT(*PopulationStabilityIndex(p, q, 1e-2), *psi);
}

TEST(DriftProperties, WassersteinIsShiftEquivariantAndSymmetric) {
  std::vector<double> u = {0.5, 2, -1, 3.25, 7}, v = {1, 1, 4, -2};
  double w = *WassersteinDistance(u, v);
  EXPECT_DOUBLE_EQ(w, *WassersteinDistance(v, u));
  std::vector<double> shifted = u;
  for (double& x : shifted) x += 10;
  // Shifting one sample by c away from an identical copy gives exactly c.
  EXPECT_NEAR(*WassersteinDistance(u, shifted), 10.0, 1e-12);
  std::vector<double> v_shifted = v;
  for (double& x : v_shifted) x += 10;
  EXPECT_NEAR(*WassersteinDistance(shifted, v_shifted), w, 1e-12);
  EXPECT_EQ(*WassersteinDistance(u, u), 0.0);
}

TEST(DriftProperties, NormalizedWassersteinFloorsAConstantReference) {
  std::vector<double> constant = {4, 4, 4}, moved = {5, 5};
  EXPECT_NEAR(*NormalizedWasserstein(constant, moved), 1.0 / kMinWassersteinScale, 1e-9);
}

TEST(DriftProperties, KolmogorovSmirnovOfIdenticalSamplesIsZeroWithPValueOne) {
  std::vector<double> a = {1, 2, 2, 3, 9};
  auto ks = KolmogorovSmirnov(a, a);
  ASSERT_TRUE(ks.ok());
  EXPECT_EQ(ks->statistic, 0.0);
  EXPECT_EQ(ks->p_value, 1.0);
  // Disjoint samples: D = 1.
  std::vector<double> b = {10, 11, 12};
  EXPECT_EQ(KolmogorovSmirnov(a, b)->statistic, 1.0);
}

TEST(DriftProperties, LInfinityIsTheLargestProportionGap) {
  std::vector<double> p = {1, 1, 2}, q = {0, 2, 2};
  EXPECT_NEAR(*LInfinity(p, q), 0.25, 1e-15);
}

TEST(DriftProperties, ChiSquaredDropsCategoriesEmptyOnBothSides) {
  std::vector<double> p = {10, 0, 20}, q = {20, 0, 10};
  std::vector<double> p2 = {10, 20}, q2 = {20, 10};
  auto with_empty = ChiSquaredContingency(p, q), without = ChiSquaredContingency(p2, q2);
  ASSERT_TRUE(with_empty.ok());
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(with_empty->dof, 1);
  EXPECT_DOUBLE_EQ(with_empty->statistic, without->statistic);
  auto single = ChiSquaredContingency(std::vector<double>{5}, std::vector<double>{7});
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->dof, 0);
  EXPECT_EQ(single->p_value, 1.0);
}

TEST(DriftProperties, AlignCategoriesTakesTheSortedUnion) {
  CategoryCounts ref = {{"b", 2}, {"a", 1}}, cur = {{"c", 5}, {"a", 3}};
  AlignedCategories al = AlignCategories(ref, cur);
  EXPECT_EQ(al.categories, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(al.reference_counts, (std::vector<double>{1, 2, 0}));
  EXPECT_EQ(al.current_counts, (std::vector<double>{3, 0, 5}));
}

TEST(DriftProperties, SturgesRule) {
  EXPECT_EQ(SturgesBins(0), 1);
  EXPECT_EQ(SturgesBins(1), 1);
  EXPECT_EQ(SturgesBins(2), 2);
  EXPECT_EQ(SturgesBins(1000), 11);
  EXPECT_EQ(SturgesBins(1024), 11);
  EXPECT_EQ(SturgesBins(1025), 12);
}

TEST(DriftProperties, HistogramOfAConstantSampleWidensTheRange) {
  std::vector<double> same = {2, 2, 2};
  auto h = EqualWidthHistograms(same, same, 4);
  ASSERT_TRUE(h.ok());
  EXPECT_DOUBLE_EQ(h->edges.front(), 1.5);
  EXPECT_DOUBLE_EQ(h->edges.back(), 2.5);
  EXPECT_EQ(h->reference_counts, (std::vector<double>{0, 0, 3, 0}));
}

TEST(DriftErrors, BadInputIsAnErrorNotACrash) {
  std::vector<double> empty, one = {1}, two = {1, 2}, zeros = {0, 0}, negative = {1, -1};
  std::vector<double> with_nan = {1, std::nan("")};
  EXPECT_EQ(JensenShannonDistance(one, two).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_FALSE(JensenShannonDistance(zeros, two).ok());
  EXPECT_FALSE(JensenShannonDistance(negative, two).ok());
  EXPECT_FALSE(PopulationStabilityIndex(two, two, 0).ok());
  EXPECT_FALSE(WassersteinDistance(empty, two).ok());
  EXPECT_FALSE(WassersteinDistance(with_nan, two).ok());
  EXPECT_FALSE(KolmogorovSmirnov(two, empty).ok());
  EXPECT_FALSE(ChiSquaredContingency(empty, empty).ok());
  EXPECT_FALSE(EqualWidthHistogram(two, 0, 1, 0).ok());
  EXPECT_FALSE(EqualWidthHistogram(two, 1, 0, 3).ok());
  EXPECT_FALSE(EqualWidthHistograms(empty, std::vector<double>{std::nan("")}).ok());
  auto st = JensenShannonDistance(one, two).status();
  EXPECT_NE(st.message().find("same length"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace cairn
