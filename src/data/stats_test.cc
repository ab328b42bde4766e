#include "data/stats.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "data/sketches.h"
#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ScratchDir;

Result<DatasetStats> StatsOf(const std::filesystem::path& path, const StatsOptions& options = {},
                             const ReaderOptions& reader_options = {}) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                         TableReader::Open(path, reader_options));
  return ComputeStats(*reader, options);
}

DatasetStats MustStats(const std::filesystem::path& path, const StatsOptions& options = {},
                       const ReaderOptions& reader_options = {}) {
  auto stats = StatsOf(path, options, reader_options);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return stats.ok() ? *stats : DatasetStats{};
}

const FeatureStats& Feature(const DatasetStats& stats, const std::string& name) {
  for (const auto& f : stats.features) {
    if (f.name == name) return f;
  }
  static FeatureStats none;
  ADD_FAILURE() << "no feature " << name;
  return none;
}

TEST(Stats, ExactNumericStatisticsByHand) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "x,y\n1,0\n2,NaN\n3,inf\n4,\n,5\n");
  DatasetStats stats = MustStats(path);
  EXPECT_EQ(stats.num_rows, 5);
  EXPECT_TRUE(stats.exact);
  ASSERT_EQ(stats.features.size(), 2u);

  const FeatureStats& x = Feature(stats, "x");
  EXPECT_EQ(x.type, ColumnType::kInt);
  EXPECT_EQ(x.count, 4);
  EXPECT_EQ(x.missing, 1);
  EXPECT_DOUBLE_EQ(x.missing_fraction, 0.2);
  ASSERT_TRUE(x.has_numeric);
  EXPECT_FALSE(x.has_string);
  EXPECT_DOUBLE_EQ(x.numeric.mean, 2.5);
  EXPECT_DOUBLE_EQ(x.numeric.std_dev, std::sqrt(1.25));  // population std
  EXPECT_EQ(x.numeric.zeros, 0);
  EXPECT_DOUBLE_EQ(x.numeric.min, 1);
  EXPECT_DOUBLE_EQ(x.numeric.median, 2.5);
  EXPECT_DOUBLE_EQ(x.numeric.max, 4);
  ASSERT_EQ(x.numeric.quantiles.size(), 11u);
  EXPECT_DOUBLE_EQ(x.numeric.quantiles[1], 1.3);  // numpy's linear interpolation
  EXPECT_DOUBLE_EQ(x.numeric.quantiles[9], 3.7);
  ASSERT_EQ(x.numeric.histogram.size(), 10u);
  std::vector<double> counts;
  for (const auto& b : x.numeric.histogram) counts.push_back(b.count);
  EXPECT_EQ(counts, (std::vector<double>{1, 0, 0, 1, 0, 0, 1, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(x.numeric.histogram[0].low, 1);
  EXPECT_DOUBLE_EQ(x.numeric.histogram[0].high, 1.3);
  EXPECT_DOUBLE_EQ(x.numeric.histogram[9].high, 4);
  ASSERT_EQ(x.numeric.quantile_histogram.size(), 10u);
  EXPECT_DOUBLE_EQ(x.numeric.quantile_histogram[0].low, 1);
  EXPECT_DOUBLE_EQ(x.numeric.quantile_histogram[0].high, 1.3);
  EXPECT_DOUBLE_EQ(x.numeric.quantile_histogram[3].count, 0.4);

  const FeatureStats& y = Feature(stats, "y");
  EXPECT_EQ(y.type, ColumnType::kFloat);
  EXPECT_EQ(y.count, 4);  // 0, NaN, inf, 5
  EXPECT_EQ(y.missing, 1);
  EXPECT_EQ(y.numeric.finite, 2);
  EXPECT_EQ(y.numeric.zeros, 1);
  EXPECT_EQ(y.numeric.nan, 1);
  EXPECT_EQ(y.numeric.inf, 1);
  EXPECT_DOUBLE_EQ(y.numeric.mean, 2.5);
  EXPECT_DOUBLE_EQ(y.numeric.std_dev, 2.5);
  EXPECT_DOUBLE_EQ(y.numeric.median, 2.5);
}

TEST(Stats, ExactStringStatisticsByHand) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "s,u,c\na,h\xffi,7\nb,ok,7\na,ok,7\nc,\xc3\xa9,7\na,x,7\n");
  DatasetStats stats = MustStats(path);
  const FeatureStats& s = Feature(stats, "s");
  EXPECT_EQ(s.type, ColumnType::kString);
  ASSERT_TRUE(s.has_string);
  EXPECT_FALSE(s.has_numeric);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.string.unique, 3);
  EXPECT_FALSE(s.string.unique_is_estimate);
  ASSERT_EQ(s.string.top_k.size(), 3u);
  EXPECT_EQ(s.string.top_k[0].value, "a");
  EXPECT_EQ(s.string.top_k[0].count, 3);
  EXPECT_EQ(s.string.top_k[1].value, "b");  // ties by value
  EXPECT_EQ(s.string.top_k[2].value, "c");
  EXPECT_DOUBLE_EQ(s.string.avg_length, 1);

  const FeatureStats& u = Feature(stats, "u");
  EXPECT_EQ(u.string.invalid_utf8, 1);
  EXPECT_DOUBLE_EQ(u.string.avg_length, 2.0);  // bytes: 3 + 2 + 2 + 2 + 1
  EXPECT_EQ(u.string.top_k[0].value, "ok");
  EXPECT_EQ(u.string.top_k[0].count, 2);

  const FeatureStats& c = Feature(stats, "c");  // a constant: one bucket holds it
  EXPECT_DOUBLE_EQ(c.numeric.std_dev, 0);
  EXPECT_DOUBLE_EQ(c.numeric.histogram[0].low, 6.5);
  EXPECT_DOUBLE_EQ(c.numeric.histogram[5].count, 5);

  // The JSON replaces the invalid byte and keeps the documented shape.
  nlohmann::json j = StatsToJson(stats);
  EXPECT_EQ(j["format"], "cairn.stats/1");
  EXPECT_EQ(j["num_rows"], 5);
  EXPECT_EQ(j["features"][1]["string"]["top_k"][1]["value"], "h\xEF\xBF\xBDi");
  EXPECT_NO_THROW((void)j.dump());
  std::string table = StatsTable(stats);
  EXPECT_NE(table.find("numeric features"), std::string::npos) << table;
  EXPECT_NE(table.find("a (3), b (1), c (1)"), std::string::npos) << table;
}

TEST(Stats, ColumnThatTurnsOutMixedIsSummarizedAsText) {
  ScratchDir dir;
  // The first chunk (2 rows) of m looks numeric; "x" later makes it a string column.
  auto path = dir.Write("t.csv", "m,b\n1,true\n2,false\n3,1\nx,0\n1,true\n");
  ReaderOptions small;
  small.chunk_rows = 2;
  for (int threads : {1, 3}) {
    StatsOptions options;
    options.threads = threads;
    DatasetStats stats = MustStats(path, options, small);
    const FeatureStats& m = Feature(stats, "m");
    EXPECT_EQ(m.type, ColumnType::kString);
    EXPECT_EQ(m.string.unique, 4);
    ASSERT_EQ(m.string.top_k.size(), 4u);
    EXPECT_EQ(m.string.top_k[0].value, "1");
    EXPECT_EQ(m.string.top_k[0].count, 2);
    const FeatureStats& b = Feature(stats, "b");
    EXPECT_EQ(b.type, ColumnType::kBool);
    EXPECT_EQ(b.string.unique, 4);  // true false 1 0, as written
    EXPECT_EQ(b.string.top_k[0].value, "true");
  }
}

TEST(Stats, EmptyAndNullOnlyColumns) {
  ScratchDir dir;
  auto path = dir.Write("t.csv", "a,b\nNA,1\n,2\n");
  DatasetStats stats = MustStats(path);
  const FeatureStats& a = Feature(stats, "a");
  EXPECT_EQ(a.type, ColumnType::kEmpty);
  EXPECT_EQ(a.missing, 2);
  EXPECT_DOUBLE_EQ(a.missing_fraction, 1);
  EXPECT_FALSE(a.has_numeric || a.has_string);
  auto header_only = dir.Write("h.csv", "a,b\n");
  DatasetStats none = MustStats(header_only);
  EXPECT_EQ(none.num_rows, 0);
  ASSERT_EQ(none.features.size(), 2u);
  EXPECT_NO_THROW((void)StatsToJson(none).dump());
}

// A column of 20,000 rows: numbers from a skewed distribution, ids with a few
// heavy values, and far more distinct values than the budget.
std::filesystem::path WriteLarge(const ScratchDir& dir, std::vector<double>* numbers,
                                 int* distinct_ids) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(1, 1.5);
  std::string csv = "v,id\n";
  std::set<std::string> ids;
  for (int i = 0; i < 20000; ++i) {
    double v = std::round(dist(rng) * 1000) / 1000;
    numbers->push_back(v);
    std::string id =
        i % 4 == 0 ? "hot" + std::to_string(i % 3) : "id" + std::to_string(rng() % 9000);
    ids.insert(id);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    csv += std::string(buf) + "," + id + "\n";
  }
  *distinct_ids = static_cast<int>(ids.size());
  std::sort(numbers->begin(), numbers->end());
  return dir.Write("large.csv", csv);
}

TEST(Stats, SketchesBeyondTheBudgetStayWithinTheirBounds) {
  ScratchDir dir;
  std::vector<double> numbers;
  int distinct_ids = 0;
  auto path = WriteLarge(dir, &numbers, &distinct_ids);
  StatsOptions options;
  options.exact_budget_values = 1000;
  options.quantile_sketch_k = 128;
  options.heavy_hitter_capacity = 50;
  ReaderOptions small;
  small.chunk_rows = 700;
  DatasetStats stats = MustStats(path, options, small);
  EXPECT_FALSE(stats.exact);

  const FeatureStats& v = Feature(stats, "v");
  ASSERT_TRUE(v.numeric.quantiles_are_estimate);
  const double bound = v.numeric.rank_error_bound;
  ASSERT_GT(bound, 0);
  EXPECT_DOUBLE_EQ(v.numeric.min, numbers.front());
  EXPECT_DOUBLE_EQ(v.numeric.max, numbers.back());
  for (int i = 1; i < 10; ++i) {
    const double estimate = v.numeric.quantiles[i];
    auto lo = std::lower_bound(numbers.begin(), numbers.end(), estimate) - numbers.begin();
    auto hi = std::upper_bound(numbers.begin(), numbers.end(), estimate) - numbers.begin();
    const double target = i / 10.0 * numbers.size();
    // Some rank the estimate occupies is within bound * n of the target.
    const double distance = target < lo ? lo - target : (target > hi ? target - hi : 0.0);
    EXPECT_LE(distance, bound * numbers.size()) << "decile " << i;
  }
  double total = 0;
  for (const auto& b : v.numeric.histogram) total += b.count;
  EXPECT_NEAR(total, 20000, 1e-6);
  // Mean and std are exact even with sketches (merged moments).
  double sum = 0;
  for (double x : numbers) sum += x;
  EXPECT_NEAR(v.numeric.mean, sum / numbers.size(), 1e-9 * std::abs(sum));

  const FeatureStats& id = Feature(stats, "id");
  EXPECT_TRUE(id.string.unique_is_estimate);
  EXPECT_NEAR(id.string.unique, distinct_ids, 3 * HyperLogLog::kStandardError * distinct_ids + 1);
  ASSERT_TRUE(id.string.top_k_is_estimate);
  ASSERT_GE(id.string.top_k.size(), 3u);
  std::set<std::string> top3;
  for (int i = 0; i < 3; ++i) top3.insert(id.string.top_k[i].value);
  EXPECT_EQ(top3, (std::set<std::string>{"hot0", "hot1", "hot2"}));
  for (int i = 0; i < 3; ++i) EXPECT_GE(id.string.top_k[i].count, 5000 / 3);
}

TEST(Stats, SameJsonForAnyThreadCount) {
  ScratchDir dir;
  std::vector<double> numbers;
  int distinct_ids = 0;
  auto path = WriteLarge(dir, &numbers, &distinct_ids);
  ReaderOptions small;
  small.chunk_rows = 333;
  for (int64_t budget : {int64_t{1000}, int64_t{10'000'000}}) {
    std::string first;
    for (int threads : {1, 2, 4}) {
      StatsOptions options;
      options.threads = threads;
      options.exact_budget_values = budget;
      std::string json = StatsToJson(MustStats(path, options, small)).dump();
      if (first.empty()) {
        first = json;
      } else {
        EXPECT_EQ(json, first) << threads << " threads, budget " << budget;
      }
    }
  }
}

// Plain CSV files are parsed by byte ranges on every thread: small ranges
// (with quoted line breaks across them) give the same JSON for any thread
// count, and the same counts as the sequential reader of the gzip copy.
TEST(Stats, ByteRangesGiveTheSameJsonForAnyThreadCount) {
  ScratchDir dir;
  std::mt19937_64 rng(9);
  std::string csv = "x,label,note\n";
  for (int i = 0; i < 5000; ++i) {
    csv += std::to_string(static_cast<double>(rng() % 100000) / 8) + ",";
    csv += std::string(i % 4 == 0 ? "\"a\nb\"" : (i % 4 == 1 ? "c" : "\"d,\"\"e\"")) + ",";
    csv += (i % 7 == 0 ? std::string("NA") : "n" + std::to_string(i % 13)) + "\n";
  }
  auto path = dir.Write("r.csv", csv);
  ReaderOptions small;
  small.block_size = 997;
  small.chunk_rows = 300;
  std::string first;
  for (int threads : {1, 2, 4}) {
    for (int64_t budget : {int64_t{500}, int64_t{10'000'000}}) {
      StatsOptions options;
      options.threads = threads;
      options.exact_budget_values = budget;
      std::string json = StatsToJson(MustStats(path, options, small)).dump();
      if (budget == 500) continue;
      if (first.empty()) {
        first = json;
      } else {
        EXPECT_EQ(json, first) << threads << " threads";
      }
    }
  }
  DatasetStats ranged = MustStats(path, {}, small);
  EXPECT_EQ(ranged.num_rows, 5000);
  const FeatureStats& label = Feature(ranged, "label");
  EXPECT_EQ(label.string.unique, 3);
  EXPECT_EQ(label.string.top_k[0].value, "d,\"e");
  EXPECT_EQ(label.string.top_k[0].count, 2500);
  EXPECT_EQ(label.string.top_k[1].value, "a\nb");
  EXPECT_EQ(Feature(ranged, "note").missing, (5000 + 6) / 7);

  // The same file gzipped goes through the sequential reader.
  auto gz_path = dir.path("r.csv.gz");
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, csv.data(), static_cast<unsigned>(csv.size())),
            static_cast<int>(csv.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
  DatasetStats sequential = MustStats(gz_path, {}, small);
  EXPECT_EQ(sequential.num_rows, ranged.num_rows);
  const FeatureStats& xs = Feature(sequential, "x");
  const FeatureStats& xr = Feature(ranged, "x");
  EXPECT_EQ(xs.numeric.quantiles, xr.numeric.quantiles);
  EXPECT_NEAR(xs.numeric.mean, xr.numeric.mean, 1e-9 * std::abs(xs.numeric.mean));
  EXPECT_EQ(Feature(sequential, "label").string.top_k[0].count, 2500);
}

// A string column's short cells are counted by their bytes as one word: they
// must count as any other cell, next to nulls, non-ASCII and invalid UTF-8
// text, an embedded NUL, long texts, and more distinct short texts than the
// word table holds (a part then counts the rest the general way).
TEST(Stats, ShortStringCellsCountLikeOthers) {
  ScratchDir dir;
  std::vector<std::string> pool = {
      "a", "bb",       "NA",        "caf\xc3\xa9",          "\xff\xfe",
      "",  "12345678", "123456789", std::string("x\0y", 3), "a-much-longer-value"};
  for (int i = 0; i < 40; ++i) pool.push_back("k" + std::to_string(i));
  std::mt19937_64 rng(11);
  std::string csv = "id,s\n";
  std::map<std::string, int64_t> expected;
  int64_t nulls = 0, invalid = 0, bytes = 0;
  const int rows = 6000;
  for (int i = 0; i < rows; ++i) {
    // The first rows use few values, then all of them (parts of 500 rows).
    const std::string& v = pool[rng() % (i < 1500 ? 6 : pool.size())];
    csv += std::to_string(i) + "," + v + "\n";
    if (v.empty() || v == "NA") {
      ++nulls;
      continue;
    }
    ++expected[v];
    bytes += static_cast<int64_t>(v.size());
    if (v == "\xff\xfe") ++invalid;
  }
  auto path = dir.Write("short.csv", csv);
  ReaderOptions small;
  small.chunk_rows = 500;
  StatsOptions options;
  options.top_k = 100;
  for (int threads : {1, 2}) {
    options.threads = threads;
    const DatasetStats stats = MustStats(path, options, small);
    const FeatureStats& s = Feature(stats, "s");
    EXPECT_EQ(s.type, ColumnType::kString);
    EXPECT_EQ(s.missing, nulls);
    EXPECT_EQ(s.count, rows - nulls);
    EXPECT_EQ(s.string.unique, static_cast<int64_t>(expected.size()));
    EXPECT_EQ(s.string.invalid_utf8, invalid);
    EXPECT_DOUBLE_EQ(s.string.avg_length,
                     static_cast<double>(bytes) / static_cast<double>(rows - nulls));
    ASSERT_EQ(s.string.top_k.size(), expected.size());
    for (const TopValue& top : s.string.top_k) {
      // Invalid UTF-8 is shown with U+FFFD; the others as they are.
      if (top.value.find("\xef\xbf\xbd") != std::string::npos) continue;
      ASSERT_TRUE(expected.count(top.value)) << top.value;
      EXPECT_EQ(top.count, expected[top.value]) << top.value;
    }
  }
}

TEST(Stats, ByteBudgetSketchesTheLargestColumnsFirst) {
  ScratchDir dir;
  // `big` keeps 20,000 numbers (160 KB), `sparse` 2,000 (16 KB), `name` 3 strings.
  std::mt19937_64 rng(5);
  std::string csv = "big,sparse,name\n";
  for (int i = 0; i < 20000; ++i) {
    csv += std::to_string(rng() % 1000003) + "." + std::to_string(i % 97) + ",";
    csv += (i % 10 == 0 ? std::to_string(i % 7) : std::string("NA")) + ",";
    csv += std::string(i % 3 == 0 ? "x" : (i % 3 == 1 ? "y" : "z")) + "\n";
  }
  auto path = dir.Write("budget.csv", csv);
  ReaderOptions small;
  small.chunk_rows = 500;

  DatasetStats exact = MustStats(path, {}, small);
  EXPECT_TRUE(exact.exact);

  std::string first;
  for (int threads : {1, 2, 4}) {
    StatsOptions options;
    options.threads = threads;
    options.exact_budget_bytes = 100 * 1024;
    DatasetStats stats = MustStats(path, options, small);
    EXPECT_FALSE(stats.exact);
    const FeatureStats& big = Feature(stats, "big");
    EXPECT_TRUE(big.numeric.quantiles_are_estimate);
    // Moments and extremes stay exact when the quantiles are sketched.
    EXPECT_EQ(big.numeric.min, Feature(exact, "big").numeric.min);
    EXPECT_EQ(big.numeric.max, Feature(exact, "big").numeric.max);
    EXPECT_DOUBLE_EQ(big.numeric.mean, Feature(exact, "big").numeric.mean);
    const FeatureStats& sparse = Feature(stats, "sparse");
    EXPECT_FALSE(sparse.numeric.quantiles_are_estimate);
    EXPECT_EQ(sparse.numeric.quantiles, Feature(exact, "sparse").numeric.quantiles);
    const FeatureStats& name = Feature(stats, "name");
    EXPECT_FALSE(name.string.unique_is_estimate);
    EXPECT_EQ(name.string.unique, 3);
    std::string json = StatsToJson(stats).dump();
    if (first.empty()) {
      first = json;
    } else {
      EXPECT_EQ(json, first) << threads << " threads";
    }
  }

  StatsOptions none;
  none.exact_budget_bytes = 0;  // everything sketched from the first chunk
  DatasetStats sketched = MustStats(path, none, small);
  EXPECT_TRUE(Feature(sketched, "sparse").numeric.quantiles_are_estimate);
  EXPECT_TRUE(Feature(sketched, "name").string.unique_is_estimate);
  EXPECT_EQ(Feature(sketched, "name").string.top_k.size(), 3u);
}

// numpy's default (linear) quantiles of `values` at 0, 0.1, ..., 1.
std::vector<double> NumpyDeciles(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::vector<double> out;
  const size_t n = values.size();
  for (int i = 0; i <= 10; ++i) {
    const double h = i / 10.0 * static_cast<double>(n - 1);
    const size_t lo = static_cast<size_t>(std::floor(h));
    out.push_back(lo + 1 >= n
                      ? values[lo]
                      : values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]));
  }
  return out;
}

// numpy.histogram's 10 equal-width bucket counts.
std::vector<double> NumpyHistogram(const std::vector<double>& values) {
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  if (lo == hi) lo -= 0.5, hi += 0.5;
  std::vector<double> counts(10, 0);
  for (double v : values) {
    counts[std::clamp(static_cast<int>((v - lo) / ((hi - lo) / 10)), 0, 9)] += 1;
  }
  return counts;
}

std::vector<double> Counts(const std::vector<HistogramBucket>& buckets) {
  std::vector<double> out;
  for (const auto& b : buckets) out.push_back(b.count);
  return out;
}

// Numeric columns are kept as distinct values and counts while they have few
// (`few`), as every value past that (`many`: more distinct values than the
// counts hold, arriving late in the file), or sketched past the budget; the
// exact ones match numpy computed from all the values, for any thread count.
TEST(Stats, CountedValuesListedValuesAndRadixSelectionAreExact) {
  ScratchDir dir;
  std::mt19937_64 rng(31);
  const int rows = 280000;  // more distinct values than are counted, and than the radix threshold
  std::vector<double> few, many, wide, zeros;
  std::string csv = "few,many,wide,zeros\n";
  for (int i = 0; i < rows; ++i) {
    few.push_back(static_cast<double>(static_cast<int>(rng() % 7) - 3));
    // The first quarter repeats 50 values, the rest is (nearly) all distinct.
    many.push_back(i < rows / 4 ? static_cast<double>(rng() % 50) / 4
                                : static_cast<double>(rng() % 100000000) / 64);
    // Magnitudes over many exponents, both signs.
    const double magnitude =
        std::ldexp(static_cast<double>(rng() % 100000 + 1), static_cast<int>(rng() % 80) - 40);
    wide.push_back(rng() % 2 ? magnitude : -magnitude);
    // Half of them zeros of both signs (the selection's fallback), half distinct.
    zeros.push_back(i % 2 == 0 ? static_cast<double>(i) : (i % 4 == 1 ? 0.0 : -0.0));
    char line[160];
    std::snprintf(line, sizeof line, "%d,%.17g,%.17g,%s\n", static_cast<int>(few.back()),
                  many.back(), wide.back(),
                  i % 2 == 0 ? std::to_string(i).c_str() : (i % 4 == 1 ? "0" : "-0.0"));
    csv += line;
  }
  auto path = dir.Write("counted.csv", csv);
  ReaderOptions small;
  small.chunk_rows = 2000;
  small.block_size = 64 * 1024;
  std::string first;
  for (int threads : {1, 2, 4}) {
    StatsOptions options;
    options.threads = threads;
    DatasetStats stats = MustStats(path, options, small);
    EXPECT_TRUE(stats.exact);
    for (const auto& [name, values] : {std::pair{"few", &few}, std::pair{"many", &many},
                                       std::pair{"wide", &wide}, std::pair{"zeros", &zeros}}) {
      const FeatureStats& f = Feature(stats, name);
      ASSERT_TRUE(f.has_numeric) << name;
      EXPECT_FALSE(f.numeric.quantiles_are_estimate) << name;
      const std::vector<double> want = NumpyDeciles(*values);
      ASSERT_EQ(f.numeric.quantiles.size(), want.size());
      for (size_t i = 1; i + 1 < want.size(); ++i) {  // the ends are min and max
        EXPECT_EQ(f.numeric.quantiles[i], want[i]) << name << " decile " << i;
      }
      EXPECT_EQ(Counts(f.numeric.histogram), NumpyHistogram(*values)) << name;
    }
    std::string json = StatsToJson(stats).dump();
    if (first.empty()) {
      first = json;
    } else {
      EXPECT_EQ(json, first) << threads << " threads";
    }
  }

  // A budget of 40 values per column: `few` stays exact as counts, the others
  // are sketched (from counts, from listed values) within their bound.
  StatsOptions tight;
  tight.exact_budget_values = 40;
  tight.quantile_sketch_k = 64;
  DatasetStats sketched = MustStats(path, tight, small);
  EXPECT_FALSE(Feature(sketched, "few").numeric.quantiles_are_estimate);
  EXPECT_EQ(Feature(sketched, "few").numeric.quantiles, NumpyDeciles(few));
  for (const auto& [name, values] : {std::pair{"many", &many}, std::pair{"wide", &wide}}) {
    const FeatureStats& f = Feature(sketched, name);
    ASSERT_TRUE(f.numeric.quantiles_are_estimate) << name;
    std::vector<double> sorted = *values;
    std::sort(sorted.begin(), sorted.end());
    const double bound = f.numeric.rank_error_bound * static_cast<double>(sorted.size());
    for (int i = 1; i < 10; ++i) {
      const double estimate = f.numeric.quantiles[i];
      const double lo = static_cast<double>(
          std::lower_bound(sorted.begin(), sorted.end(), estimate) - sorted.begin());
      const double hi = static_cast<double>(
          std::upper_bound(sorted.begin(), sorted.end(), estimate) - sorted.begin());
      const double target = i / 10.0 * static_cast<double>(sorted.size());
      const double distance = target < lo ? lo - target : (target > hi ? target - hi : 0.0);
      EXPECT_LE(distance, bound) << name << " decile " << i;
    }
  }
}

// Columns whose kind changes mid-file (ints then floats, floats then text,
// 0/1 then other ints, NaN and inf among numbers, nulls in runs): the types
// and counts of the statistics (typed summarizing with deferred counts, over
// byte ranges) are those of plain type inference over the same file.
TEST(Stats, TypeChangesMidFileMatchPlainInference) {
  ScratchDir dir;
  std::mt19937_64 rng(41);
  std::string csv = "a,b,c,d,e,f\n";
  const int rows = 6000;
  for (int i = 0; i < rows; ++i) {
    const bool late = i > rows / 2;
    // a: ints, then floats; b: floats, then one word; c: 0/1, then a 2;
    // d: ints with NaN and inf; e: mostly null, then floats; f: floats, "1e5", "-0".
    csv += late ? std::to_string(rng() % 1000) + ".5" : std::to_string(rng() % 1000);
    csv += ",";
    csv += i == rows - 7 ? std::string("word")
                         : std::to_string(rng() % 100) + "." + std::to_string(rng() % 10);
    csv += ",";
    csv += i == rows - 3 ? std::string("2") : std::to_string(rng() % 2);
    csv += ",";
    csv += i % 97 == 0 ? std::string("NaN")
                       : (i % 89 == 0 ? std::string("inf") : std::to_string(rng() % 50));
    csv += ",";
    csv += i < rows - 100 ? std::string(i % 2 ? "NA" : "") : std::to_string(rng() % 9) + ".25";
    csv += ",";
    csv += i % 5 == 0 ? std::string("1e5")
                      : (i % 7 == 0 ? std::string("-0") : std::to_string(rng() % 30) + ".0");
    csv += "\n";
  }
  auto path = dir.Write("mixed.csv", csv);
  auto reader = TableReader::Open(path);
  ASSERT_TRUE(reader.ok());
  auto inferred = InferColumnTypes(**reader);
  ASSERT_TRUE(inferred.ok());
  ReaderOptions small;
  small.block_size = 4096;
  small.chunk_rows = 256;
  for (int threads : {1, 2, 4}) {
    StatsOptions options;
    options.threads = threads;
    DatasetStats stats = MustStats(path, options, small);
    ASSERT_EQ(stats.features.size(), inferred->size());
    for (size_t c = 0; c < inferred->size(); ++c) {
      const FeatureStats& f = stats.features[c];
      const ColumnInference& want = (*inferred)[c];
      EXPECT_EQ(f.type, want.type) << f.name;
      EXPECT_EQ(f.count, want.values) << f.name;
      EXPECT_EQ(f.missing, want.nulls) << f.name;
      if (f.has_numeric) {
        EXPECT_EQ(f.numeric.nan, want.nans) << f.name;
      }
    }
  }
  DatasetStats stats = MustStats(path, {}, small);
  EXPECT_EQ(Feature(stats, "a").type, ColumnType::kFloat);
  EXPECT_EQ(Feature(stats, "b").type, ColumnType::kString);
  EXPECT_EQ(Feature(stats, "c").type, ColumnType::kInt);
  EXPECT_EQ(Feature(stats, "d").type, ColumnType::kFloat);
  EXPECT_EQ(Feature(stats, "d").numeric.inf, (rows + 88) / 89 - (rows + 97 * 89 - 1) / (97 * 89));
}

TEST(Stats, MalformedInputIsTheReadersError) {
  ScratchDir dir;
  auto path = dir.Write("bad.csv", "a,b\n1,2\n3,\"abc\n4,5\n");
  auto stats = StatsOf(path);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(stats.status().message().rfind(path.string() + ":3:3: unterminated quoted field", 0),
            0u)
      << stats.status().message();
  StatsOptions bad;
  bad.top_k = -1;
  EXPECT_EQ(StatsOf(dir.Write("ok.csv", "a\n1\n"), bad).status().code(),
            ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace cairn::data
