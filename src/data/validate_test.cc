#include "data/validate.h"

#include <gtest/gtest.h>

#include "data/stats_io.h"
#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ScratchDir;

class ValidateTest : public ::testing::Test {
 protected:
  DatasetStats Stats(const std::string& name, const std::string& csv,
                     StatsOptions options = SchemaStatsOptions()) {
    auto path = dir_.Write(name, csv);
    auto reader = TableReader::Open(path);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    auto stats = ComputeStats(**reader, options);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return *stats;
  }

  // Validates `csv` against a schema given as YAML feature entries (and dataset keys).
  ValidationReport Run(const std::string& csv, const std::string& schema_yaml,
                       const std::string& reference_csv = "",
                       ReferenceRole role = ReferenceRole::kDrift,
                       StatsOptions options = SchemaStatsOptions()) {
    auto schema = ParseSchema("format: cairn.schema/1\n" + schema_yaml, "schema.yml");
    EXPECT_TRUE(schema.ok()) << schema.status().ToString();
    DatasetStats current = Stats("current.csv", csv, options);
    std::optional<DatasetStats> reference;
    if (!reference_csv.empty()) reference = Stats("reference.csv", reference_csv);
    auto report = ValidateTable(current, dir_.path("current.csv"), {}, *schema,
                                reference ? &*reference : nullptr, {role});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : ValidationReport{};
  }

  static const Anomaly* Find(const ValidationReport& r, const std::string& feature,
                             const std::string& type) {
    for (const Anomaly& a : r.anomalies) {
      if (a.feature == feature && a.type == type) return &a;
    }
    return nullptr;
  }

  static std::string Dump(const ValidationReport& r) { return ValidationTable(r); }

  ScratchDir dir_;
};

#define EXPECT_ANOMALY(report, feature, type)                                                    \
  ([&]() -> const Anomaly* {                                                                     \
    const Anomaly* a = Find(report, feature, type);                                              \
    EXPECT_NE(a, nullptr) << "expected " << type << " on '" << feature << "'\n" << Dump(report); \
    return a;                                                                                    \
  }())

TEST_F(ValidateTest, CleanAgainstItsInferredSchema) {
  std::string csv = "i,f,s,b,t\n1,0.5,red,true,2024-01-01\n2,NaN,blue,false,2024-02-01\n";
  Schema schema = InferSchema(Stats("a.csv", csv));
  DatasetStats stats = Stats("b.csv", csv);
  ValidationReport r = Validate(stats, schema, &stats, {});
  EXPECT_TRUE(r.clean()) << Dump(r);
  EXPECT_FALSE(r.has_errors());
  EXPECT_EQ(ValidationToJson(r)["clean"], true);
}

TEST_F(ValidateTest, SchemaMissingColumn) {
  auto r = Run("a\n1\n",
               "features:\n  - {name: a, type: INT}\n"
               "  - {name: gone, type: INT, presence: {min_fraction: 1}}\n"
               "  - {name: optional, type: INT}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "gone", "SCHEMA_MISSING_COLUMN");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Severity::kError);
  const Anomaly* o = EXPECT_ANOMALY(r, "optional", "SCHEMA_MISSING_COLUMN");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->severity, Severity::kWarning);
}

TEST_F(ValidateTest, SchemaNewColumnIsAWarning) {
  auto r = Run("a,extra\n1,2\n", "features:\n  - {name: a, type: INT}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "extra", "SCHEMA_NEW_COLUMN");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->severity, Severity::kWarning);
  EXPECT_FALSE(r.clean());
  EXPECT_FALSE(r.has_errors());
}

TEST_F(ValidateTest, UnexpectedDataType) {
  auto r = Run("i,t\n1.5,2024-01-01\n2,tomorrow\n",
               "features:\n  - {name: i, type: INT}\n  - {name: t, type: TIMESTAMP}\n");
  EXPECT_ANOMALY(r, "i", "UNEXPECTED_DATA_TYPE");
  EXPECT_ANOMALY(r, "t", "UNEXPECTED_DATA_TYPE");
  EXPECT_EQ(r.anomalies.size(), 2u) << Dump(r);
}

TEST_F(ValidateTest, FeatureTypeLowFractionPresent) {
  const std::string csv = "a,b\n1,x\n,x\n3,x\n4,x\n";  // a is missing in one row of four
  const std::string b = "  - {name: b, type: STRING}\n";
  auto r = Run(csv, "features:\n  - {name: a, type: INT, max_missing_fraction: 0.1}\n" + b);
  const Anomaly* a = EXPECT_ANOMALY(r, "a", "FEATURE_TYPE_LOW_FRACTION_PRESENT");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->value, 0.75);
  EXPECT_DOUBLE_EQ(*a->threshold, 0.9);
  EXPECT_TRUE(
      Run(csv, "features:\n  - {name: a, type: INT, max_missing_fraction: 0.25}\n" + b).clean());
}

TEST_F(ValidateTest, FeatureTypeLowNumberPresent) {
  auto r = Run("a\n1\n2\n", "features:\n  - {name: a, type: INT, presence: {min_count: 3}}\n");
  EXPECT_ANOMALY(r, "a", "FEATURE_TYPE_LOW_NUMBER_PRESENT");
}

TEST_F(ValidateTest, FloatTypeHasNan) {
  auto r = Run("x\n1.5\nNaN\n", "features:\n  - {name: x, type: FLOAT, allow_nan: false}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "x", "FLOAT_TYPE_HAS_NAN");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->fraction, 0.5);
  EXPECT_TRUE(Run("x\n1.5\nNaN\n", "features:\n  - {name: x, type: FLOAT}\n").clean());
}

TEST_F(ValidateTest, FloatTypeHasInf) {
  auto r = Run("x\n1.5\ninf\n-inf\n", "features:\n  - {name: x, type: FLOAT, allow_inf: false}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "x", "FLOAT_TYPE_HAS_INF");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->value, 2);
}

TEST_F(ValidateTest, FloatTypeBigAndSmallFloat) {
  auto r = Run("x\n-3.5\n0.5\n9.25\n", "features:\n  - {name: x, type: FLOAT, min: -1, max: 5}\n");
  const Anomaly* big = EXPECT_ANOMALY(r, "x", "FLOAT_TYPE_BIG_FLOAT");
  const Anomaly* small = EXPECT_ANOMALY(r, "x", "FLOAT_TYPE_SMALL_FLOAT");
  ASSERT_TRUE(big && small);
  EXPECT_DOUBLE_EQ(*big->value, 9.25);
  EXPECT_DOUBLE_EQ(*small->value, -3.5);
  EXPECT_NE(big->description.find("9.25 > 5"), std::string::npos) << big->description;
  // Integers in a FLOAT feature are floats within bounds.
  EXPECT_TRUE(Run("x\n1\n2\n", "features:\n  - {name: x, type: FLOAT, min: 0, max: 5}\n").clean());
}

TEST_F(ValidateTest, IntTypeBigAndSmallInt) {
  auto r = Run("n\n-2\n5\n130\n", "features:\n  - {name: n, type: INT, min: 0, max: 120}\n");
  EXPECT_ANOMALY(r, "n", "INT_TYPE_BIG_INT");
  EXPECT_ANOMALY(r, "n", "INT_TYPE_SMALL_INT");
  EXPECT_EQ(r.anomalies.size(), 2u) << Dump(r);
}

TEST_F(ValidateTest, IntTypeNotIntString) {
  auto r = Run("n\n1\n2\nabc\nabc\nx7\n", "features:\n  - {name: n, type: INT}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "n", "INT_TYPE_NOT_INT_STRING");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->examples.size(), 2u);
  EXPECT_EQ(a->examples[0].value, "abc");
  EXPECT_EQ(a->examples[0].count, 2);
  EXPECT_DOUBLE_EQ(*a->fraction, 0.6);
  EXPECT_FALSE(Find(r, "n", "UNEXPECTED_DATA_TYPE"));
}

TEST_F(ValidateTest, FloatTypeStringNotFloat) {
  auto r = Run("x\n1.5\nn/a\n2\n", "features:\n  - {name: x, type: FLOAT}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "x", "FLOAT_TYPE_STRING_NOT_FLOAT");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->examples.size(), 1u);
  EXPECT_EQ(a->examples[0].value, "n/a");
  EXPECT_NEAR(*a->fraction, 1.0 / 3, 1e-12);
}

TEST_F(ValidateTest, BoolTypeUnexpectedString) {
  auto r = Run("b\ntrue\nFalse\nmaybe\n", "features:\n  - {name: b, type: BOOL}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "b", "BOOL_TYPE_UNEXPECTED_STRING");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->examples[0].value, "maybe");
  // A custom domain: Y/N are fine, "yes" is not.
  auto custom = Run("b\nY\nN\nyes\n",
                    "features:\n  - {name: b, type: BOOL, bool_domain: {true_value: Y, "
                    "false_value: N}}\n");
  EXPECT_ANOMALY(custom, "b", "BOOL_TYPE_UNEXPECTED_STRING");
  EXPECT_TRUE(Run("b\nY\nN\n",
                  "features:\n  - {name: b, type: BOOL, bool_domain: {true_value: Y, "
                  "false_value: N}}\n")
                  .clean());
}

TEST_F(ValidateTest, BoolTypeIntsAndFloats) {
  const std::string schema =
      "features:\n  - {name: b, type: BOOL, bool_domain: {true_value: '1', false_value: '0'}}\n";
  EXPECT_TRUE(Run("b\n0\n1\n", schema).clean());
  EXPECT_ANOMALY(Run("b\n0\n2\n", schema), "b", "BOOL_TYPE_BIG_INT");
  EXPECT_ANOMALY(Run("b\n0\n-1\n", schema), "b", "BOOL_TYPE_SMALL_INT");
  EXPECT_ANOMALY(Run("b\n0\n0.5\n", schema), "b", "BOOL_TYPE_UNEXPECTED_FLOAT");
}

TEST_F(ValidateTest, EnumTypeUnexpectedStringValues) {
  const std::string schema = "features:\n  - {name: c, type: STRING, domain: [a, b]}\n";
  auto r = Run("c\na\nb\nc\nc\n", schema);
  const Anomaly* a = EXPECT_ANOMALY(r, "c", "ENUM_TYPE_UNEXPECTED_STRING_VALUES");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->examples.size(), 1u);
  EXPECT_EQ(a->examples[0].value, "c");
  EXPECT_EQ(a->examples[0].count, 2);
  EXPECT_DOUBLE_EQ(*a->fraction, 0.5);
  EXPECT_NE(a->description.find("c (~50%)"), std::string::npos) << a->description;
  // The same answer from the conformance pass when the top values do not cover the column.
  StatsOptions few = SchemaStatsOptions();
  few.top_k = 1;
  auto pass = Run("c\na\nb\nc\nc\na\na\na\n", schema, "", ReferenceRole::kDrift, few);
  const Anomaly* p = EXPECT_ANOMALY(pass, "c", "ENUM_TYPE_UNEXPECTED_STRING_VALUES");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->examples[0].count, 2);
  EXPECT_DOUBLE_EQ(*p->fraction, 2.0 / 7);
  // min_domain_mass tolerates a share of values outside the domain.
  EXPECT_TRUE(Run("c\na\nb\nc\nc\n",
                  "features:\n  - {name: c, type: STRING, domain: [a, b], min_domain_mass: 0.5}\n")
                  .clean());
}

TEST_F(ValidateTest, EnumTypeInvalidUtf8) {
  auto r = Run("s\nok\nbad\xff\n", "features:\n  - {name: s, type: STRING}\n");
  const Anomaly* a = EXPECT_ANOMALY(r, "s", "ENUM_TYPE_INVALID_UTF8");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->value, 1);
}

TEST_F(ValidateTest, FeatureTypeLowAndHighUnique) {
  const std::string csv = "s\na\nb\nc\n";
  EXPECT_ANOMALY(Run(csv, "features:\n  - {name: s, type: STRING, unique: {min: 4}}\n"), "s",
                 "FEATURE_TYPE_LOW_UNIQUE");
  EXPECT_ANOMALY(Run(csv, "features:\n  - {name: s, type: STRING, unique: {max: 2}}\n"), "s",
                 "FEATURE_TYPE_HIGH_UNIQUE");
  EXPECT_TRUE(
      Run(csv, "features:\n  - {name: s, type: STRING, unique: {min: 3, max: 3}}\n").clean());
}

TEST_F(ValidateTest, DatasetLowAndHighNumExamples) {
  auto low = Run("a\n1\n2\n", "min_examples: 3\nfeatures:\n  - {name: a, type: INT}\n");
  const Anomaly* a = EXPECT_ANOMALY(low, "", "DATASET_LOW_NUM_EXAMPLES");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->value, 2);
  EXPECT_ANOMALY(Run("a\n1\n2\n", "max_examples: 1\nfeatures:\n  - {name: a, type: INT}\n"), "",
                 "DATASET_HIGH_NUM_EXAMPLES");
}

TEST_F(ValidateTest, ComparatorLInftyHigh) {
  const std::string ref = "c\na\na\na\nb\n";  // a 0.75, b 0.25
  const std::string cur = "c\na\nb\nb\nb\n";  // a 0.25, b 0.75
  auto r = Run(cur, "features:\n  - {name: c, type: STRING, drift_comparator: {l_infinity: 0.1}}\n",
               ref);
  const Anomaly* a = EXPECT_ANOMALY(r, "c", "COMPARATOR_L_INFTY_HIGH");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(*a->value, 0.5);
  EXPECT_NE(a->description.find("current and previous"), std::string::npos);
  // Below the threshold, or only a skew comparator while checking drift: nothing.
  EXPECT_TRUE(
      Run(cur, "features:\n  - {name: c, type: STRING, drift_comparator: {l_infinity: 0.6}}\n", ref)
          .clean());
  EXPECT_TRUE(
      Run(cur, "features:\n  - {name: c, type: STRING, skew_comparator: {l_infinity: 0.1}}\n", ref)
          .clean());
  auto skew =
      Run(cur, "features:\n  - {name: c, type: STRING, skew_comparator: {l_infinity: 0.1}}\n", ref,
          ReferenceRole::kSkew);
  const Anomaly* s = EXPECT_ANOMALY(skew, "c", "COMPARATOR_L_INFTY_HIGH");
  ASSERT_TRUE(s);
  EXPECT_NE(s->description.find("training and serving"), std::string::npos);
}

TEST_F(ValidateTest, ComparatorJensenShannonDivergenceHigh) {
  std::string ref = "x\n", shifted = "x\n", same = "x\n";
  for (int i = 0; i < 100; ++i) {
    ref += std::to_string(i) + ".5\n";
    same += std::to_string(i) + ".5\n";
    shifted += std::to_string(i + 200) + ".5\n";
  }
  const std::string schema =
      "features:\n  - {name: x, type: FLOAT, drift_comparator: {jensen_shannon: 0.1}}\n";
  const Anomaly* a =
      EXPECT_ANOMALY(Run(shifted, schema, ref), "x", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH");
  ASSERT_TRUE(a);
  EXPECT_NEAR(*a->value, 1.0, 1e-9);  // disjoint supports
  EXPECT_TRUE(Run(same, schema, ref).clean());
}

TEST_F(ValidateTest, JensenShannonOnRebinnedHistograms) {
  FeatureStats p, q;
  p.has_numeric = q.has_numeric = true;
  p.numeric.histogram = {{0, 1, 10}, {1, 2, 10}};
  q.numeric.histogram = {{0, 2, 20}};  // the same uniform mass on coarser buckets
  EXPECT_NEAR(*JensenShannonDivergence(p, q), 0.0, 1e-12);
  q.numeric.histogram = {{0, 1, 20}};
  // p = (0.5, 0.5), q = (1, 0): JS divergence = 1 - 0.5 * H(0.75, 0.25)... computed by hand.
  double m0 = 0.75, m1 = 0.25;
  double kl_p = 0.5 * std::log2(0.5 / m0) + 0.5 * std::log2(0.5 / m1);
  double kl_q = 1.0 * std::log2(1.0 / m0);
  EXPECT_NEAR(*JensenShannonDivergence(p, q), 0.5 * kl_p + 0.5 * kl_q, 1e-12);
}

TEST_F(ValidateTest, ReferenceFromStoredStatsJson) {
  const std::string ref = "c\na\na\na\nb\n";
  DatasetStats ref_stats = Stats("ref.csv", ref);
  auto back = StatsFromJson(StatsToJson(ref_stats));
  ASSERT_TRUE(back.ok());
  auto schema = ParseSchema(
      "format: cairn.schema/1\nfeatures:\n  - {name: c, type: STRING, drift_comparator: "
      "{l_infinity: 0.1}}\n",
      "s");
  ASSERT_TRUE(schema.ok());
  DatasetStats cur = Stats("cur.csv", "c\nb\nb\nb\nb\n");
  auto r = Validate(cur, *schema, &*back, {});
  EXPECT_TRUE(Find(r, "c", "COMPARATOR_L_INFTY_HIGH"));
}

TEST_F(ValidateTest, CatalogueCoversEveryReportedType) {
  std::set<std::string> names;
  for (const auto& k : AnomalyCatalogue()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_STRNE(k.short_description, "");
  }
  EXPECT_EQ(names.size(), 25u);
}

}  // namespace
}  // namespace cairn::data
