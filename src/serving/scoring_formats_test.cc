// Tests of the scoring protocols' bodies: MLflow's formats (dataframe_split,
// dataframe_records, instances, inputs, CSV), Azure's {"data"}, V2 tensors
// (one 2-D input, 1-D inputs by name, id echo, datatypes) and the signature
// checks (missing column, wrong type, unseen category, null).
#include "serving/scoring_formats.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

std::vector<ColumnSpec> FlightColumns() {
  auto cols = ParseSignatureColumns(
      R"([{"name": "distance", "type": "double"},
          {"name": "hour", "type": "long"},
          {"name": "weekend", "type": "boolean"},
          {"name": "carrier", "type": "string", "categories": ["AA", "DL", "UA"]},
          {"name": "delay", "type": "float", "required": false}])");
  EXPECT_TRUE(cols.ok()) << cols.status().message();
  return *cols;
}

ScoreBatch Parse(Protocol p, const std::string& body, const std::string& ct = "application/json") {
  ScoreBatch b;
  std::string id;
  Status st = ParseScoringRequest(p, ct, body, FlightColumns(), b, id);
  EXPECT_TRUE(st.ok()) << st.message();
  return b;
}

Status ParseError(Protocol p, const std::string& body, const std::string& ct = "application/json") {
  ScoreBatch b;
  std::string id;
  return ParseScoringRequest(p, ct, body, FlightColumns(), b, id);
}

void ExpectRow(const ScoreBatch& b, size_t row, std::vector<float> want) {
  ASSERT_GT(b.rows, row);
  for (size_t c = 0; c < want.size(); ++c) {
    float got = b.features[row * want.size() + c];
    if (std::isnan(want[c])) {
      EXPECT_TRUE(std::isnan(got)) << "column " << c;
    } else {
      EXPECT_FLOAT_EQ(got, want[c]) << "column " << c;
    }
  }
}

const float kNaN = std::nanf("");

TEST(ScoringFormats, MlflowDataframeSplitRecordsInstancesInputs) {
  ScoreBatch split = Parse(Protocol::kMlflow, R"({"dataframe_split": {
      "columns": ["carrier", "hour", "distance", "weekend", "delay", "extra"],
      "data": [["DL", 7, 812.5, true, 3.5, "ignored"], ["UA", 23, 90, false, null, 1]]}})");
  ASSERT_EQ(split.rows, 2u);
  ExpectRow(split, 0, {812.5f, 7, 1, 1, 3.5f});
  ExpectRow(split, 1, {90, 23, 0, 2, kNaN});

  ScoreBatch records = Parse(Protocol::kMlflow, R"({"dataframe_records": [
      {"distance": 812.5, "hour": 7, "weekend": true, "carrier": "DL", "delay": 3.5}]})");
  ExpectRow(records, 0, {812.5f, 7, 1, 1, 3.5f});

  ScoreBatch instances = Parse(Protocol::kMlflow, R"({"instances": [
      {"distance": 1, "hour": 2, "weekend": false, "carrier": "AA"}]})");
  ExpectRow(instances, 0, {1, 2, 0, 0, kNaN});  // optional column absent: missing

  ScoreBatch columnar = Parse(Protocol::kMlflow, R"({"inputs": {"distance": [1, 2],
      "hour": [3, 4], "weekend": [true, false], "carrier": ["UA", "AA"], "delay": [0.5, 1]}})");
  ASSERT_EQ(columnar.rows, 2u);
  ExpectRow(columnar, 1, {2, 4, 0, 0, 1});

  ScoreBatch rows = Parse(Protocol::kMlflow, R"({"inputs": [[5, 6, true, "DL", 7]]})");
  ExpectRow(rows, 0, {5, 6, 1, 1, 7});
}

TEST(ScoringFormats, MlflowCsv) {
  ScoreBatch b =
      Parse(Protocol::kMlflow,
            "hour,distance,carrier,weekend,delay\n7,812.5,\"DL\",true,\n23,90,UA,0,2.5\n",
            "text/csv; charset=utf-8");
  ASSERT_EQ(b.rows, 2u);
  ExpectRow(b, 0, {812.5f, 7, 1, 1, kNaN});
  ExpectRow(b, 1, {90, 23, 0, 2, 2.5f});
  Status st =
      ParseError(Protocol::kMlflow, "hour,distance,carrier,weekend\nx,1,AA,true\n", "text/csv");
  EXPECT_NE(st.message().find("column 'hour'"), std::string::npos) << st.message();
}

TEST(ScoringFormats, AzureData) {
  ScoreBatch b = Parse(Protocol::kAzure,
                       R"({"data": [[812.5, 7, true, "DL", 3.5], [1, 2, false, "AA", null]]})");
  ASSERT_EQ(b.rows, 2u);
  ExpectRow(b, 1, {1, 2, 0, 0, kNaN});
  Status st = ParseError(Protocol::kAzure, R"({"data": [[812.5, 7, true]]})");
  EXPECT_NE(st.message().find("expects 5 columns"), std::string::npos) << st.message();
}

TEST(ScoringFormats, SignatureErrorsNameTheField) {
  auto msg = [](const std::string& body) { return ParseError(Protocol::kMlflow, body).message(); };
  // missing column
  EXPECT_NE(msg(R"({"dataframe_records": [{"distance": 1, "weekend": true, "carrier": "AA"}]})")
                .find("column 'hour' is missing"),
            std::string::npos);
  // wrong type
  EXPECT_NE(
      msg(R"({"dataframe_records": [{"distance": "far", "hour": 1, "weekend": true, "carrier": "AA"}]})")
          .find("column 'distance': expected double, got a string"),
      std::string::npos);
  EXPECT_NE(
      msg(R"({"dataframe_records": [{"distance": 1, "hour": 1.5, "weekend": true, "carrier": "AA"}]})")
          .find("column 'hour': expected long"),
      std::string::npos);
  // unseen category
  EXPECT_NE(
      msg(R"({"dataframe_records": [{"distance": 1, "hour": 1, "weekend": true, "carrier": "ZZ"}]})")
          .find("column 'carrier': unseen category 'ZZ' (known: AA, DL, UA)"),
      std::string::npos);
  // null in a required column (row number named past the first)
  EXPECT_NE(
      msg(R"({"dataframe_records": [{"distance": 1, "hour": 1, "weekend": true, "carrier": "AA"},
                                         {"distance": null, "hour": 1, "weekend": true, "carrier": "AA"}]})")
          .find("column 'distance' (row 1) is null"),
      std::string::npos);
  EXPECT_EQ(ParseError(Protocol::kMlflow, R"({"dataframe_records": [{"distance": null}]})").code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ParseError(Protocol::kMlflow, "{not json").code(), ErrorCode::kBadRequest);
  EXPECT_NE(msg(R"({"rows": []})").find("exactly one of"), std::string::npos);
  EXPECT_NE(msg(R"({"instances": [], "inputs": []})").find("send exactly one"), std::string::npos);
}

TEST(ScoringFormats, V2OneTwoDimensionalTensorMapsColumnsInOrder) {
  auto cols = ParseSignatureColumns(
      R"([{"name": "a", "type": "double"}, {"name": "b", "type": "double"}])");
  ASSERT_TRUE(cols.ok());
  ScoreBatch b;
  std::string id;
  ASSERT_TRUE(ParseScoringRequest(Protocol::kV2, "application/json",
                                  R"({"id": "req-7", "inputs": [{"name": "input-0", "shape": [2, 2],
                                      "datatype": "FP32", "data": [1, 2, 3, 4]}]})",
                                  *cols, b, id)
                  .ok());
  EXPECT_EQ(id, "req-7");
  EXPECT_EQ(b.rows, 2u);
  EXPECT_EQ(b.features, (std::vector<float>{1, 2, 3, 4}));
  // Nested data is accepted as well.
  ASSERT_TRUE(ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [{"name": "x", "shape": [1, 2],
                                      "datatype": "FP64", "data": [[5, 6]]}]})",
                                  *cols, b, id)
                  .ok());
  EXPECT_EQ(b.features, (std::vector<float>{5, 6}));
  Status st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [{"name": "x", "shape": [1, 3],
                                      "datatype": "FP32", "data": [1, 2, 3]}]})",
                                  *cols, b, id);
  EXPECT_NE(st.message().find("expects 2"), std::string::npos);
  st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [{"name": "x", "shape": [1, 2],
                                      "datatype": "FP32", "data": [1]}]})",
                           *cols, b, id);
  EXPECT_NE(st.message().find("has 1 values"), std::string::npos);
  st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [{"name": "x", "shape": [1, 2],
                                      "datatype": "BYTES", "data": ["a", "b"]}]})",
                           *cols, b, id);
  EXPECT_NE(st.message().find("datatype BYTES"), std::string::npos);
}

TEST(ScoringFormats, V2OneDimensionalInputsMapByName) {
  ScoreBatch b;
  std::string id;
  Status st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [
      {"name": "carrier", "shape": [2], "datatype": "BYTES", "data": ["UA", "AA"]},
      {"name": "weekend", "shape": [2], "datatype": "BOOL", "data": [true, false]},
      {"name": "hour", "shape": [2, 1], "datatype": "INT64", "data": [[3], [4]]},
      {"name": "distance", "shape": [2], "datatype": "FP64", "data": [10.5, 20]}]})",
                                  FlightColumns(), b, id);
  ASSERT_TRUE(st.ok()) << st.message();
  ExpectRow(b, 0, {10.5f, 3, 1, 2, kNaN});
  ExpectRow(b, 1, {20, 4, 0, 0, kNaN});
  st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [
      {"name": "carrier", "shape": [1], "datatype": "BYTES", "data": ["UA"]}]})",
                           FlightColumns(), b, id);
  EXPECT_NE(st.message().find("input 'distance' is missing"), std::string::npos) << st.message();
  st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [
      {"name": "hour", "shape": [1], "datatype": "FP32", "data": [1]}]})",
                           FlightColumns(), b, id);
  EXPECT_NE(st.message().find("input 'hour' has datatype FP32"), std::string::npos);
  st = ParseScoringRequest(Protocol::kV2, "", R"({"inputs": [
      {"name": "nope", "shape": [1], "datatype": "FP32", "data": [1]}]})",
                           FlightColumns(), b, id);
  EXPECT_NE(st.message().find("'nope' is not a model input"), std::string::npos);
}

TEST(ScoringFormats, Responses) {
  ScoreResult r;
  r.values = {0.25f, 0.75f};
  r.rows = 2;
  r.cols = 1;
  Json v2 = Json::parse(FormatScoringResponse(Protocol::kV2, r, "fraud", "blue", "req-1"));
  EXPECT_EQ(v2["model_name"], "fraud");
  EXPECT_EQ(v2["model_version"], "blue");
  EXPECT_EQ(v2["id"], "req-1");
  EXPECT_EQ(v2["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(v2["outputs"][0]["shape"], Json::parse("[2]"));
  EXPECT_EQ(v2["outputs"][0]["data"], Json::parse("[0.25, 0.75]"));
  EXPECT_EQ(Json::parse(FormatScoringResponse(Protocol::kMlflow, r, "", "", "")),
            Json::parse(R"({"predictions": [0.25, 0.75]})"));
  EXPECT_EQ(Json::parse(FormatScoringResponse(Protocol::kAzure, r, "", "", "")),
            Json::parse("[0.25, 0.75]"));
  r.cols = 2;
  r.rows = 1;
  EXPECT_EQ(Json::parse(FormatScoringResponse(Protocol::kV2, r, "", "", ""))["outputs"][0]["shape"],
            Json::parse("[1, 2]"));
  r.values = {std::nanf(""), 0.1f};
  EXPECT_EQ(Json::parse(FormatScoringResponse(Protocol::kMlflow, r, "", "", "")),
            Json::parse(R"({"predictions": [[null, 0.1]]})"));
  EXPECT_EQ(FormatScoringResponse(Protocol::kV2, r, "a\"b", "d", ""),
            R"({"model_name":"a\"b","model_version":"d","outputs":[{"name":"predict",)"
            R"("datatype":"FP32","shape":[1,2],"data":[null,0.1]}]})");
  EXPECT_EQ(Json::parse(FormatScoringError(Protocol::kV2, ErrorCode::kBadRequest, "bad")),
            Json::parse(R"({"error": "bad"})"));
}

TEST(ScoringFormats, SignatureColumns) {
  auto tensor = ParseSignatureColumns(
      R"([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}])");
  ASSERT_TRUE(tensor.ok());
  EXPECT_EQ(tensor->size(), 4u);
  EXPECT_FALSE(ParseSignatureColumns(R"([{"type": "double"}])").ok());
  EXPECT_FALSE(ParseSignatureColumns("not json").ok());
  EXPECT_TRUE(ParseSignatureColumns("")->empty());
}

// ---- the single-pass V2 reader against the general path -----------------

// Random V2 bodies over a mixed signature: 2-D tensors and 1-D inputs by
// name, nested and flat data, every JSON number form, nulls, booleans,
// strings, ids, parameters, unknown keys and whitespace.
class V2BodyGenerator {
 public:
  explicit V2BodyGenerator(uint32_t seed) : rng_(seed) {}

  std::string Body(const std::vector<ColumnSpec>& cols) {
    std::string b = "{";
    std::vector<std::string> members;
    if (Chance(0.4)) members.push_back(Ws() + "\"id\"" + Ws() + ":" + Ws() + Str());
    if (Chance(0.2)) members.push_back("\"parameters\":" + Any(0));
    if (Chance(0.1)) members.push_back("\"outputs\":[{\"name\":\"predict\"}]");
    members.push_back("\"inputs\":" + Ws() + Inputs(cols));
    if (Chance(0.05)) members.push_back("\"inputs\":" + Inputs(cols));  // duplicate key
    std::shuffle(members.begin(), members.end(), rng_);
    for (size_t i = 0; i < members.size(); ++i) b += (i ? "," + Ws() : Ws()) + members[i];
    return b + Ws() + "}" + Ws();
  }

  // A copy of `body` with a random edit: truncated, a byte replaced,
  // removed or inserted, or a span repeated.
  std::string Mutate(std::string body) {
    static const std::string kBytes = "{}[],:\"\\ 0123456789eE.+-tfnulx\x01\xc3";
    if (body.empty()) return body;
    size_t at = Uniform(body.size());
    switch (Uniform(5)) {
      case 0:
        return body.substr(0, at);
      case 1:
        body[at] = kBytes[Uniform(kBytes.size())];
        return body;
      case 2:
        return body.erase(at, 1);
      case 3:
        return body.insert(at, 1, kBytes[Uniform(kBytes.size())]);
      default: {
        size_t n = 1 + Uniform(8);
        return body.insert(at, body.substr(at, n));
      }
    }
  }

 private:
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::string Ws() {
    static const char* kWs[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    return kWs[Uniform(7)];
  }
  std::string Str() {
    static const char* kStrs[] = {"\"r-1\"",    "\"\"",    "\"caf\xc3\xa9\"",
                                  "\"a\\\"b\"", "\"x y\"", "7"};
    return kStrs[Uniform(6)];
  }
  std::string Number() {
    static const char* kNums[] = {"0",
                                  "-0",
                                  "1",
                                  "-17",
                                  "3.25",
                                  "-0.0",
                                  "1e3",
                                  "2.5E-3",
                                  "1E+2",
                                  "812.5",
                                  "0.1",
                                  "7.0",
                                  "-2.5e1",
                                  "0.30000000000000004",
                                  "123456789012345678",
                                  "4",
                                  "-3",
                                  "0.5"};
    return kNums[Uniform(sizeof kNums / sizeof *kNums)];
  }
  // Numbers JSON refuses, or that need more than int64/double.
  std::string OddNumber() {
    static const char* kOdd[] = {"01", "1.", ".5", "+1", "1e", "1e400", "12345678901234567890"};
    return kOdd[Uniform(sizeof kOdd / sizeof *kOdd)];
  }
  std::string Value() {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.93) return Number();
    if (r < 0.95) return Chance(0.5) ? "true" : "false";
    if (r < 0.97) return "null";
    if (r < 0.98) return Chance(0.5) ? "\"DL\"" : "\"XX\"";
    if (r < 0.99) return OddNumber();
    return "{}";
  }
  std::string Any(int depth) {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (depth > 2 || r < 0.4) return Value();
    if (r < 0.7) return "[" + Any(depth + 1) + "," + Ws() + Any(depth + 1) + "]";
    return "{\"k\":" + Any(depth + 1) + ",\"s\":" + Str() + "}";
  }
  std::string Data(size_t rows, size_t cols, bool nested) {
    std::string d = "[";
    for (size_t r = 0; r < rows; ++r) {
      if (r) d += "," + Ws();
      if (nested) d += "[";
      for (size_t c = 0; c < cols; ++c) d += (c ? "," : "") + Value();
      if (nested) d += "]";
    }
    return d + "]";
  }
  std::string Input(const std::string& name, const std::string& datatype, const std::string& shape,
                    const std::string& data) {
    std::vector<std::string> m = {"\"name\":" + Ws() + "\"" + name + "\"",
                                  "\"datatype\":\"" + datatype + "\"", "\"shape\":" + shape,
                                  "\"data\":" + Ws() + data};
    if (Chance(0.1)) m.push_back("\"parameters\":{\"content_type\":\"np\"}");
    if (Chance(0.03)) m.erase(m.begin() + static_cast<long>(Uniform(m.size())));
    std::shuffle(m.begin(), m.end(), rng_);
    std::string in = "{";
    for (size_t i = 0; i < m.size(); ++i) in += (i ? "," : "") + Ws() + m[i];
    return in + "}";
  }
  std::string Inputs(const std::vector<ColumnSpec>& cols) {
    static const char* kTypes[] = {"FP32", "FP64", "INT64", "BOOL", "BYTES"};
    const size_t rows = 1 + Uniform(3);
    size_t ncols = cols.size();
    if (Chance(0.05)) ncols += 1;  // wrong width
    if (Chance(0.6)) {
      std::string dt = Chance(0.85) ? "FP32" : kTypes[Uniform(5)];
      std::string shape = "[" + std::to_string(rows) + "," + Ws() + std::to_string(ncols) + "]";
      if (Chance(0.03)) shape = "[" + std::to_string(rows) + "]";
      return "[" + Input("x", dt, shape, Data(rows, ncols, Chance(0.3))) + "]";
    }
    std::string list = "[";
    bool first = true;
    for (const auto& c : cols) {
      if (Chance(0.05)) continue;  // an absent column
      std::string dt = c.type == ColumnType::kBoolean ? "BOOL"
                       : c.type == ColumnType::kLong  ? "INT64"
                                                      : "FP64";
      if (Chance(0.05)) dt = kTypes[Uniform(5)];
      std::string shape =
          Chance(0.2) ? "[" + std::to_string(rows) + ",1]" : "[" + std::to_string(rows) + "]";
      list += (first ? "" : ",") + Input(c.name, dt, shape, Data(rows, 1, Chance(0.2)));
      first = false;
    }
    return list + "]";
  }
  std::mt19937 rng_;
};

bool SameFeatures(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ScoringFormats, V2FastReaderMatchesTheGeneralPath) {
  auto mixed = ParseSignatureColumns(
      R"([{"name": "distance", "type": "double"}, {"name": "hour", "type": "long"},
          {"name": "weekend", "type": "boolean"}, {"name": "delay", "type": "float",
          "required": false}, {"name": "n", "type": "integer"}])");
  auto numeric = ParseSignatureColumns(
      R"([{"name": "a", "type": "float"}, {"name": "b", "type": "double"},
          {"name": "c", "type": "double", "required": false}])");
  ASSERT_TRUE(mixed.ok() && numeric.ok());
  V2BodyGenerator gen(20261127);
  int fast_accepted = 0, valid = 0, compared = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto& cols = i % 2 ? *mixed : *numeric;
    std::string body = gen.Body(cols);
    for (int m = i % 3; m-- > 0;) body = gen.Mutate(body);
    ScoreBatch general_batch, fast_batch, combined_batch;
    std::string general_id, fast_id = "untouched", combined_id;
    Status general =
        ParseScoringRequestGeneral(Protocol::kV2, "", body, cols, general_batch, general_id);
    bool fast = TryParseV2Fast(body, cols, fast_batch, fast_id);
    Status combined =
        ParseScoringRequest(Protocol::kV2, "", body, cols, combined_batch, combined_id);
    ++compared;
    valid += general.ok();
    // The combined path answers exactly as the general one.
    ASSERT_EQ(combined.code(), general.code()) << body;
    ASSERT_EQ(combined.message(), general.message()) << body;
    if (general.ok()) {
      ASSERT_EQ(combined_batch.rows, general_batch.rows) << body;
      ASSERT_TRUE(SameFeatures(combined_batch.features, general_batch.features)) << body;
      ASSERT_EQ(combined_id, general_id) << body;
    }
    if (fast) {
      ++fast_accepted;
      ASSERT_TRUE(general.ok()) << "fast reader accepted what the general path refuses ("
                                << general.message() << "): " << body;
      ASSERT_EQ(fast_batch.rows, general_batch.rows) << body;
      ASSERT_TRUE(SameFeatures(fast_batch.features, general_batch.features)) << body;
      ASSERT_EQ(fast_id, general_id.empty() ? "untouched" : general_id) << body;
    } else {
      ASSERT_EQ(fast_id, "untouched") << body;  // a refusal leaves the outputs alone
      ASSERT_EQ(fast_batch.rows, 0u) << body;
    }
  }
  // Not vacuous: most valid bodies take the fast path, and refusals were met.
  EXPECT_GT(valid, 2000);
  EXPECT_GT(fast_accepted, valid / 2) << "valid " << valid << " of " << compared;
  EXPECT_LT(valid, compared);
}

TEST(ScoringFormats, V2FastReaderTakesTheBenchmarkShape) {
  std::vector<ColumnSpec> named = {{"f0"}, {"f1"}, {"f2"}};
  for (auto& c : named) c.type_name = "double";
  ScoreBatch b;
  std::string id;
  ASSERT_TRUE(TryParseV2Fast(
      R"({"id":"q1","inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[0.5,-1,2e-3]}]})",
      named, b, id));
  EXPECT_EQ(id, "q1");
  EXPECT_EQ(b.rows, 1u);
  EXPECT_EQ(b.features, (std::vector<float>{0.5f, -1.0f, 0.002f}));
}

}  // namespace
}  // namespace cairn::serving
