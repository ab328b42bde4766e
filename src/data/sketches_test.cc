#include "data/sketches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace cairn::data {
namespace {

// Fraction of `sorted` that is <= value.
double TrueRank(const std::vector<double>& sorted, double value) {
  return static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), value) -
                             sorted.begin()) /
         static_cast<double>(sorted.size());
}

TEST(QuantileSketch, QuantilesWithinTheDocumentedRankError) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(0, 2);  // skewed, as real columns often are
  std::vector<double> values(200000);
  for (double& v : values) v = dist(rng);
  QuantileSketch sketch(256);
  for (double v : values) sketch.Add(v);
  ASSERT_GT(sketch.levels(), 3);  // it really compacted
  const double bound = sketch.RankErrorBound();
  EXPECT_DOUBLE_EQ(bound, (sketch.levels() - 1) / 256.0);
  std::sort(values.begin(), values.end());
  double worst = 0;
  for (int i = 1; i < 100; ++i) {
    const double fraction = i / 100.0;
    const double estimate = sketch.Quantile(fraction);
    const double error = std::abs(TrueRank(values, estimate) - fraction);
    worst = std::max(worst, error);
    EXPECT_LE(error, bound) << "at " << fraction;
    EXPECT_NEAR(sketch.Rank(estimate) / sketch.count(), fraction, bound + 1e-9);
  }
  // The alternating offsets keep the real error far below the worst case.
  EXPECT_LT(worst, bound / 4);
  EXPECT_EQ(sketch.count(), 200000);
}

// Weighted adds (the few distinct values of a column kept as counts, then
// sketched) stay within the same bound against the expanded values.
TEST(QuantileSketch, WeightedAddsWithinTheRankErrorBound) {
  std::mt19937_64 rng(21);
  std::vector<double> expanded;
  QuantileSketch sketch(128);
  for (int i = 0; i < 3000; ++i) {
    const double value = static_cast<double>(rng() % 100000) / 7;
    const int64_t weight = 1 + static_cast<int64_t>(rng() % (i % 10 == 0 ? 5000 : 40));
    sketch.AddWeighted(value, weight);
    expanded.insert(expanded.end(), static_cast<size_t>(weight), value);
  }
  ASSERT_EQ(sketch.count(), static_cast<int64_t>(expanded.size()));
  ASSERT_GT(sketch.levels(), 3);
  const double bound = sketch.RankErrorBound();
  std::sort(expanded.begin(), expanded.end());
  for (int i = 1; i < 100; ++i) {
    const double fraction = i / 100.0;
    const double estimate = sketch.Quantile(fraction);
    // Some rank the estimate occupies is within the bound of the target.
    const double lo =
        static_cast<double>(std::lower_bound(expanded.begin(), expanded.end(), estimate) -
                            expanded.begin()) /
        static_cast<double>(expanded.size());
    const double hi = TrueRank(expanded, estimate);
    const double distance = fraction < lo ? lo - fraction : (fraction > hi ? fraction - hi : 0);
    EXPECT_LE(distance, bound) << "at " << fraction;
  }
  // Weight 1 is Add().
  QuantileSketch a(64), b(64);
  for (int i = 0; i < 1000; ++i) {
    a.Add(i % 37);
    b.AddWeighted(i % 37, 1);
  }
  EXPECT_EQ(a.Quantiles({0.1, 0.5, 0.9}), b.Quantiles({0.1, 0.5, 0.9}));
}

TEST(QuantileSketch, ExactBeforeTheFirstCompaction) {
  QuantileSketch sketch(64);
  for (int i = 1; i <= 50; ++i) sketch.Add(i);
  EXPECT_EQ(sketch.RankErrorBound(), 0);
  EXPECT_EQ(sketch.Quantile(0), 1);
  EXPECT_EQ(sketch.Quantile(0.5), 25);
  EXPECT_EQ(sketch.Quantile(1), 50);
  EXPECT_EQ(sketch.Rank(10), 10);
}

TEST(QuantileSketch, SameInputSameState) {
  QuantileSketch a(32), b(32);
  for (int i = 0; i < 10000; ++i) {
    a.Add((i * 7919) % 10007);
    b.Add((i * 7919) % 10007);
  }
  for (int i = 0; i <= 20; ++i) EXPECT_EQ(a.Quantile(i / 20.0), b.Quantile(i / 20.0));
}

TEST(HyperLogLog, EstimatesWithinThreeSigma) {
  for (int n : {100, 5000, 40000, 300000}) {
    HyperLogLog hll;
    for (int i = 0; i < n; ++i) {
      const std::string v = "user-" + std::to_string(i);
      hll.Add(v);
      hll.Add(v);  // repeats do not count
    }
    EXPECT_NEAR(hll.Estimate(), n, 3 * HyperLogLog::kStandardError * n + 1) << n;
  }
}

TEST(HyperLogLog, MergeEqualsOneSketchOfEverything) {
  HyperLogLog all, left, right;
  for (int i = 0; i < 20000; ++i) {
    const std::string v = std::to_string(i);
    all.Add(v);
    (i % 3 == 0 ? left : right).Add(v);
    if (i % 5 == 0) right.Add(v);  // overlap
  }
  left.Merge(right);
  EXPECT_EQ(left.Estimate(), all.Estimate());
}

TEST(SpaceSaving, FindsTheHeavyHittersWithBoundedError) {
  SpaceSaving counter(100);
  std::mt19937_64 rng(3);
  std::vector<std::string> stream;
  for (int h = 0; h < 5; ++h) {
    for (int i = 0; i < 2000 * (h + 1); ++i) stream.push_back("heavy" + std::to_string(h));
  }
  for (int i = 0; i < 50000; ++i) stream.push_back("rare" + std::to_string(i));
  std::shuffle(stream.begin(), stream.end(), rng);
  for (const auto& v : stream) counter.Add(v);
  EXPECT_EQ(counter.total(), static_cast<int64_t>(stream.size()));
  auto top = counter.Top(5);
  ASSERT_EQ(top.size(), 5u);
  const int64_t max_error = counter.total() / 100;
  for (int i = 0; i < 5; ++i) {
    const int h = 4 - i;  // heavy4 is the most frequent
    EXPECT_EQ(top[i].value, "heavy" + std::to_string(h));
    const int64_t truth = 2000 * (h + 1);
    EXPECT_GE(top[i].count, truth);
    EXPECT_LE(top[i].count - top[i].error, truth);
    EXPECT_LE(top[i].error, max_error);
  }
}

TEST(SpaceSaving, WeightedAddsAndExactWhenWithinCapacity) {
  SpaceSaving counter(10);
  counter.Add("a", 5);
  counter.Add("b", 7);
  counter.Add("a", 3);
  auto top = counter.Top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].value, "a");
  EXPECT_EQ(top[0].count, 8);
  EXPECT_EQ(top[0].error, 0);
  EXPECT_EQ(top[1].count, 7);
}

}  // namespace
}  // namespace cairn::data

namespace cairn::data {
namespace {

// The compaction sort (radix on the high 32 bits, then runs of equal high
// bits by comparison) orders like std::sort: random doubles of every sign and
// magnitude, values equal in their high 32 bits, duplicates, -0.0 and 0.0, infinities.
TEST(QuantileSketch, CompactionSortMatchesStdSort) {
  std::mt19937_64 rng(29);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> items(trial < 2 ? trial : rng() % 5000);  // empty and one item too
    for (double& v : items) {
      switch (trial % 5) {
        case 0:
          v = std::bit_cast<double>(rng());
          if (std::isnan(v)) v = 1.5;
          break;
        case 1:
          v = 1.0 + static_cast<double>(rng() % 4096) * 1e-15;  // same high bits
          break;
        case 2:
          v = static_cast<double>(static_cast<int>(rng() % 7) - 3);  // few distinct values
          break;
        case 3:
          v = rng() % 3 == 0 ? -0.0 : (rng() % 2 ? 0.0 : -std::numeric_limits<double>::infinity());
          break;
        default:
          v = (static_cast<double>(rng() % 2000001) - 1e6) / 1000.0;
      }
    }
    std::vector<double> expected = items;
    // By value, -0.0 before 0.0.
    std::sort(expected.begin(), expected.end(), [](double a, double b) {
      return a < b || (a == b && std::signbit(a) && !std::signbit(b));
    });
    sketch_internal::SortDoubles(items);
    ASSERT_EQ(items.size(), expected.size());
    for (size_t i = 0; i < items.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint64_t>(items[i]), std::bit_cast<uint64_t>(expected[i]))
          << "trial " << trial << " at " << i;
    }
  }
}

}  // namespace
}  // namespace cairn::data
