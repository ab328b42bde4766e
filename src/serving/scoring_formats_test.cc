// Tests of the scoring protocols' bodies: MLflow's formats (dataframe_split,
// dataframe_records, instances, inputs, CSV), Azure's {"data"}, V2 tensors
// (one 2-D input, 1-D inputs by name, id echo, datatypes) and the signature
// checks (missing column, wrong type, unseen category, null).
#include "serving/scoring_formats.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

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

}  // namespace
}  // namespace cairn::serving
