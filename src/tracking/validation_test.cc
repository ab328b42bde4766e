#include "tracking/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cairn {
namespace {

void ExpectInvalid(const Status& st, const std::string& what) {
  EXPECT_FALSE(st.ok()) << "accepted: " << what;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue) << what;
    EXPECT_FALSE(st.message().empty()) << what;
  }
}

std::vector<Metric> Metrics(size_t n) {
  std::vector<Metric> out;
  for (size_t i = 0; i < n; ++i) out.push_back({"m" + std::to_string(i), 1.0, 1, 0, ""});
  return out;
}
std::vector<Param> Params(size_t n) {
  std::vector<Param> out;
  for (size_t i = 0; i < n; ++i) out.push_back({"p" + std::to_string(i), "v"});
  return out;
}
std::vector<Tag> Tags(size_t n) {
  std::vector<Tag> out;
  for (size_t i = 0; i < n; ++i) out.push_back({"t" + std::to_string(i), "v"});
  return out;
}

TEST(Validation, AcceptsValidNames) {
  const char* good[] = {
      "acc",    "val_loss", "val-loss", "val.loss",       "val loss", "train/loss",
      "a/b/c",  "ns:key",   "A1_b2-C3", "mlflow.runName", "a..b",     "x.",
      "résumé",  // non-ASCII is a word character in MLflow's Unicode-aware regex
  };
  for (const char* n : good) {
    EXPECT_TRUE(ValidateEntityName(n, "metric").ok()) << n;
    EXPECT_TRUE(ValidateMetric({n, 1.0, 0, 0, ""}).ok()) << n;
    EXPECT_TRUE(ValidateParam({n, "v"}).ok()) << n;
    EXPECT_TRUE(ValidateTag({n, "v"}).ok()) << n;
  }
}

TEST(Validation, RejectsInvalidCharacters) {
  const char* bad[] = {"a\\b", "a*b", "a?b", "a\"b", "a'b", "a\tb", "a\nb", "a$b",
                       "a%b",  "a#b", "a<b", "a|b",  "a,b", "a=b",  "a(b)"};
  for (const char* n : bad) ExpectInvalid(ValidateEntityName(n, "param"), n);
  ExpectInvalid(ValidateEntityName(std::string("a\0b", 3), "param"), "embedded NUL");
}

TEST(Validation, RejectsNamesThatResolveToOtherPaths) {
  const char* bad[] = {
      "..", "../a", "a/..", "a/../b", ".", "./a", "a/./b", "a/.", "/abs", "/", "a/", "a//b", "//a",
  };
  for (const char* n : bad) {
    ExpectInvalid(ValidateEntityName(n, "metric"), n);
    ExpectInvalid(ValidateMetric({n, 1.0, 0, 0, ""}), n);
    ExpectInvalid(ValidateParam({n, "v"}), n);
    ExpectInvalid(ValidateTag({n, "v"}), n);
  }
}

TEST(Validation, RejectsNamesStartingWithDotDotLikeMlflow) {
  // MLflow's path_not_unique() refuses any name whose normpath starts with "..",
  // not only a ".." segment (regression: "..a" and "..." were once accepted).
  for (const char* n : {"..a", "...", "..x/y", ".._"}) {
    ExpectInvalid(ValidateEntityName(n, "metric"), n);
  }
  EXPECT_TRUE(ValidateEntityName("a..", "metric").ok());
  EXPECT_TRUE(ValidateEntityName(".a", "metric").ok());
}

TEST(Validation, EmptyAndOverlongNames) {
  ExpectInvalid(ValidateEntityName("", "metric"), "empty");
  ExpectInvalid(ValidateMetric({"", 1.0, 0, 0, ""}), "empty metric");
  ExpectInvalid(ValidateParam({"", "v"}), "empty param");
  ExpectInvalid(ValidateTag({"", "v"}), "empty tag");

  std::string k250(250, 'k');
  std::string k251(251, 'k');
  EXPECT_TRUE(ValidateEntityName(k250, "metric").ok());
  EXPECT_TRUE(ValidateParam({k250, "v"}).ok());
  EXPECT_TRUE(ValidateTag({k250, "v"}).ok());
  ExpectInvalid(ValidateEntityName(k251, "metric"), "251 chars");
  ExpectInvalid(ValidateParam({k251, "v"}), "251-char param key");
  ExpectInvalid(ValidateTag({k251, "v"}), "251-char tag key");
  ExpectInvalid(ValidateMetric({k251, 1.0, 0, 0, ""}), "251-char metric key");
  Status st = ValidateEntityName(k251, "metric");
  EXPECT_NE(st.message().find("251"), std::string::npos) << st.message();
}

TEST(Validation, ParamValueLength) {
  EXPECT_TRUE(ValidateParam({"p", ""}).ok());
  EXPECT_TRUE(ValidateParam({"p", std::string(6000, 'v')}).ok());
  ExpectInvalid(ValidateParam({"p", std::string(6001, 'v')}), "6001-char param value");
  Status st = ValidateParam({"p", std::string(6001, 'v')});
  EXPECT_NE(st.message().find("6001"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("6000"), std::string::npos) << st.message();
}

TEST(Validation, TagValueLength) {
  EXPECT_TRUE(ValidateTag({"t", ""}).ok());
  EXPECT_TRUE(ValidateTag({"t", std::string(8000, 'v')}).ok());
  ExpectInvalid(ValidateTag({"t", std::string(8001, 'v')}), "8001-char tag value");
}

TEST(Validation, BatchLimits) {
  EXPECT_TRUE(ValidateBatch({}, {}, {}).ok());
  EXPECT_TRUE(ValidateBatch(Metrics(1000), {}, {}).ok());
  ExpectInvalid(ValidateBatch(Metrics(1001), {}, {}), "1001 metrics");
  EXPECT_TRUE(ValidateBatch({}, Params(100), {}).ok());
  ExpectInvalid(ValidateBatch({}, Params(101), {}), "101 params");
  EXPECT_TRUE(ValidateBatch({}, {}, Tags(100)).ok());
  ExpectInvalid(ValidateBatch({}, {}, Tags(101)), "101 tags");
  // Each list within its own limit, the total above 1000.
  EXPECT_TRUE(ValidateBatch(Metrics(800), Params(100), Tags(100)).ok());
  ExpectInvalid(ValidateBatch(Metrics(801), Params(100), Tags(100)), "1001 entities");
  ExpectInvalid(ValidateBatch(Metrics(1000), Params(1), {}), "1001 entities");
  ExpectInvalid(ValidateBatch(Metrics(1000), {}, Tags(1)), "1001 entities");
}

TEST(Validation, BatchValidatesEachEntity) {
  ExpectInvalid(ValidateBatch({{"bad//name", 1.0, 0, 0, ""}}, {}, {}), "bad metric name");
  ExpectInvalid(ValidateBatch({}, {{"p", std::string(6001, 'x')}}, {}), "long param value");
  ExpectInvalid(ValidateBatch({}, {}, {{"t", std::string(8001, 'x')}}), "long tag value");
  ExpectInvalid(ValidateBatch({}, {}, {{"", "v"}}), "empty tag key");
}

TEST(Validation, DuplicateParamKeys) {
  ExpectInvalid(ValidateBatch({}, {{"lr", "0.1"}, {"lr", "0.2"}}, {}), "conflicting duplicate");
  ExpectInvalid(ValidateBatch({}, {{"lr", "0.1"}, {"x", "1"}, {"lr", "0.2"}}, {}),
                "conflicting duplicate (not adjacent)");
  EXPECT_TRUE(ValidateBatch({}, {{"lr", "0.1"}, {"lr", "0.1"}}, {}).ok());
  // Duplicate metric keys and tag keys are fine (metrics are a history; tags upsert).
  EXPECT_TRUE(ValidateBatch({{"m", 1, 1, 0, ""}, {"m", 2, 2, 1, ""}}, {}, {}).ok());
  EXPECT_TRUE(ValidateBatch({}, {}, {{"t", "a"}, {"t", "b"}}).ok());
}

TEST(Validation, RunStatuses) {
  for (const char* s : {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}) {
    EXPECT_TRUE(ValidateRunStatus(s).ok()) << s;
  }
  for (const char* s : {"", "running", "Finished", "DONE", "FINISHED ", "1"}) {
    ExpectInvalid(ValidateRunStatus(s), std::string("status '") + s + "'");
  }
}

TEST(Validation, ExperimentNames) {
  EXPECT_TRUE(ValidateExperimentName("my experiment/with any chars?*").ok());
  EXPECT_TRUE(ValidateExperimentName(std::string(500, 'e')).ok());
  ExpectInvalid(ValidateExperimentName(""), "empty experiment name");
  ExpectInvalid(ValidateExperimentName(std::string(501, 'e')), "501-char experiment name");
}

TEST(Validation, DatasetInputs) {
  DatasetInput in;
  in.dataset = {"train", "abc123", "local", "/data/train.csv", "", ""};
  in.tags = {{"mlflow.data.context", "training"}};
  EXPECT_TRUE(ValidateDatasetInputs({in}).ok());
  EXPECT_TRUE(ValidateDatasetInputs({}).ok());

  DatasetInput missing = in;
  missing.dataset.digest = "";
  ExpectInvalid(ValidateDatasetInputs({missing}), "missing digest");
  DatasetInput long_digest = in;
  long_digest.dataset.digest = std::string(37, 'd');
  ExpectInvalid(ValidateDatasetInputs({long_digest}), "37-char digest");
  DatasetInput bad_tag = in;
  bad_tag.tags = {{"", "x"}};
  ExpectInvalid(ValidateDatasetInputs({bad_tag}), "empty input tag key");
  bad_tag.tags = {{"k", std::string(501, 'x')}};
  ExpectInvalid(ValidateDatasetInputs({bad_tag}), "501-char input tag value");
}

}  // namespace
}  // namespace cairn
