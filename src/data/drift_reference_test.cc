#include "data/drift_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace cairn {
namespace {

// A fixed-seed generator so the tests see the same data every run.
class XorShift {
 public:
  explicit XorShift(uint64_t seed) : s_(seed) {}
  double Uniform() {  // in (0, 1)
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return (static_cast<double>(s_ >> 11) + 0.5) / 9007199254740992.0;
  }
  double Normal(double mean, double sd) {  // Box-Muller
    double r = std::sqrt(-2 * std::log(Uniform()));
    return mean + sd * r * std::cos(6.283185307179586 * Uniform());
  }

 private:
  uint64_t s_;
};

std::vector<double> NormalSample(uint64_t seed, size_t n, double mean, double sd) {
  XorShift rng(seed);
  std::vector<double> out(n);
  for (double& v : out) v = rng.Normal(mean, sd);
  return out;
}

TEST(DriftReference, SummaryHoldsMomentsRangeAndSpacedQuantiles) {
  std::vector<double> values = {5, 1, std::nan(""), 3, 2, 4};
  auto ref = BuildNumericReference(values, 100);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->count, 5);
  EXPECT_DOUBLE_EQ(ref->mean, 3.0);
  EXPECT_DOUBLE_EQ(ref->std, std::sqrt(2.0));
  EXPECT_EQ(ref->min, 1.0);
  EXPECT_EQ(ref->max, 5.0);
  EXPECT_TRUE(ref->complete());
  EXPECT_EQ(ref->sample, (std::vector<double>{1, 2, 3, 4, 5}));

  std::vector<double> ramp(1000);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(999 - i);
  auto bounded = BuildNumericReference(ramp, 10);
  ASSERT_TRUE(bounded.ok());
  EXPECT_FALSE(bounded->complete());
  // Ranks floor((i + 0.5) * 100): 50, 150, ..., 950.
  ASSERT_EQ(bounded->sample.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(bounded->sample[i], 50.0 + 100.0 * i);
}

TEST(DriftReference, CompleteReferenceGivesTheSampleBasedMetrics) {
  auto reference = NormalSample(1, 3000, 0, 1);
  auto current = NormalSample(2, 2000, 0.25, 1.1);
  current[7] = std::nan("");  // a null: counted, then left out of the metrics
  auto ref = BuildNumericReference(reference);
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(ref->complete());
  DriftOptions exact;
  exact.max_current_sample = 0;
  exact.ks_method = KsMethod::kExact;
  auto drift = ComputeNumericDrift(*ref, current, exact);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();

  std::vector<double> present;
  for (double v : current) {
    if (!std::isnan(v)) present.push_back(v);
  }
  EXPECT_EQ(drift->rows, 2000);
  EXPECT_DOUBLE_EQ(drift->null_value_rate, 1.0 / 2000);
  auto hist = EqualWidthHistograms(reference, present);
  ASSERT_TRUE(hist.ok());
  EXPECT_DOUBLE_EQ(drift->jensen_shannon,
                   *JensenShannonDistance(hist->reference_counts, hist->current_counts));
  EXPECT_DOUBLE_EQ(drift->psi,
                   *PopulationStabilityIndex(hist->reference_counts, hist->current_counts));
  EXPECT_DOUBLE_EQ(drift->wasserstein, *WassersteinDistance(reference, present));
  EXPECT_NEAR(drift->normalized_wasserstein, *NormalizedWasserstein(reference, present), 1e-12);
  auto ks = KolmogorovSmirnov(reference, present, KsMethod::kExact);
  EXPECT_EQ(drift->ks.statistic, ks->statistic);
  EXPECT_EQ(drift->ks.p_value, ks->p_value);
  int64_t outside = 0;
  for (double v : present) outside += (v < ref->min || v > ref->max) ? 1 : 0;
  EXPECT_DOUBLE_EQ(drift->out_of_bounds_rate,
                   static_cast<double>(outside) / static_cast<double>(present.size()));
}

TEST(DriftReference, BoundedSummaryApproximatesTheExactMetrics) {
  auto reference = NormalSample(3, 200000, 10, 2);
  auto current = NormalSample(4, 150000, 10.5, 2);
  auto ref = BuildNumericReference(reference);  // 10,000 quantile points
  ASSERT_TRUE(ref.ok());
  ASSERT_FALSE(ref->complete());
  auto approx = ComputeNumericDrift(*ref, current);
  ASSERT_TRUE(approx.ok());
  auto hist = EqualWidthHistograms(reference, current);
  double js = *JensenShannonDistance(hist->reference_counts, hist->current_counts);
  double w1 = *WassersteinDistance(reference, current);
  double d = KolmogorovSmirnov(reference, current, KsMethod::kAsymptotic)->statistic;
  EXPECT_NEAR(approx->jensen_shannon, js, 0.01);
  EXPECT_NEAR(approx->wasserstein, w1, 0.05 * w1);
  EXPECT_NEAR(approx->normalized_wasserstein, w1 / 2, 0.05 * w1);
  EXPECT_NEAR(approx->ks.statistic, d, 0.02);
  EXPECT_EQ(approx->ks.method, KsMethod::kAsymptotic);
  EXPECT_LT(approx->ks.p_value, 1e-6);  // a half-sigma shift is unmistakable

  // No drift: small distances, no significance.
  auto same = ComputeNumericDrift(*ref, NormalSample(5, 150000, 10, 2));
  ASSERT_TRUE(same.ok());
  EXPECT_LT(same->jensen_shannon, 0.02);
  EXPECT_LT(same->normalized_wasserstein, 0.05);
  EXPECT_GT(same->ks.p_value, 0.001);
}

TEST(DriftReference, ComputeDriftRunsEveryFeatureAndNamesTheFailingOne) {
  std::vector<NumericReference> refs;
  std::vector<std::vector<double>> data;
  for (uint64_t f = 0; f < 5; ++f) {
    refs.push_back(*BuildNumericReference(NormalSample(10 + f, 5000, 0, 1)));
    data.push_back(NormalSample(20 + f, 4000, 0.1 * static_cast<double>(f), 1));
  }
  std::vector<std::span<const double>> columns(data.begin(), data.end());
  DriftOptions options;
  options.threads = 3;
  auto all = ComputeDrift(refs, columns, options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (size_t f = 0; f < 5; ++f) {
    auto one = ComputeNumericDrift(refs[f], data[f], options);
    EXPECT_EQ((*all)[f].wasserstein, one->wasserstein);
    EXPECT_EQ((*all)[f].ks.p_value, one->ks.p_value);
  }
  // Drift grows with the shift.
  EXPECT_LT((*all)[0].normalized_wasserstein, (*all)[4].normalized_wasserstein);

  std::vector<double> all_null = {std::nan(""), std::nan("")};
  columns[3] = all_null;
  auto failed = ComputeDrift(refs, columns, options);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(failed.status().message().find("feature 3"), std::string::npos)
      << failed.status().message();

  EXPECT_FALSE(ComputeDrift(refs, std::span(columns).first(2), options).ok());
}

TEST(DriftReference, CategoricalDriftCombinesTheCountMetrics) {
  CategoryCounts ref = {{"red", 50}, {"green", 30}, {"blue", 20}};
  CategoryCounts cur = {{"red", 40}, {"green", 30}, {"blue", 20}, {"violet", 10}};
  auto drift = ComputeCategoricalDrift(ref, cur);
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_DOUBLE_EQ(drift->out_of_bounds_rate, 0.1);
  EXPECT_NEAR(drift->l_infinity, 0.1, 1e-15);
  EXPECT_EQ(drift->chi_squared.dof, 3);
  EXPECT_GT(drift->jensen_shannon, 0);
  auto none = ComputeCategoricalDrift(ref, ref);
  EXPECT_EQ(none->jensen_shannon, 0.0);
  EXPECT_EQ(none->psi, 0.0);
  EXPECT_EQ(none->chi_squared.statistic, 0.0);
  EXPECT_FALSE(ComputeCategoricalDrift({}, cur).ok());
}

TEST(DriftReference, BadSummariesAndOptionsAreRejected) {
  EXPECT_FALSE(BuildNumericReference(std::vector<double>{}).ok());
  EXPECT_FALSE(BuildNumericReference(std::vector<double>{std::nan("")}).ok());
  EXPECT_FALSE(BuildNumericReference(std::vector<double>{1, INFINITY}).ok());
  EXPECT_FALSE(BuildNumericReference(std::vector<double>{1}, 0).ok());
  NumericReference empty;
  EXPECT_FALSE(ComputeNumericDrift(empty, std::vector<double>{1.0}).ok());
  auto ref = BuildNumericReference(std::vector<double>{1, 2, 3});
  DriftOptions bad;
  bad.threads = 0;
  std::vector<std::span<const double>> columns;
  EXPECT_FALSE(ComputeDrift(std::span<const NumericReference>(), columns, bad).ok());
  EXPECT_FALSE(ComputeNumericDrift(*ref, std::vector<double>{1, INFINITY}).ok());
}

}  // namespace
}  // namespace cairn
