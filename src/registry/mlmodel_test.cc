#include "registry/mlmodel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/fs.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

// testdata/ beside this file; __FILE__ may be relative to the build directory
// (ccache's base_dir), which is where the test binary lives.
std::string Fixture(const std::string& name) {
  fs::path here = fs::path(__FILE__).parent_path() / "testdata" / name;
  if (here.is_relative()) {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    here = exe.parent_path() / here;
  }
  auto text = ReadFile(here);
  EXPECT_TRUE(text.ok()) << here << ": " << text.status().ToString();
  return text.ok() ? *text : "";
}

TEST(MLmodel, ParsesWhatSklearnWrites) {
  auto m = ParseMLmodel(Fixture("sklearn.MLmodel"), "MLmodel");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->flavors["python_function"]["loader_module"], "mlflow.sklearn");
  EXPECT_EQ(m->flavors["python_function"]["python_version"], "3.10.12");
  EXPECT_EQ(m->flavors["sklearn"]["sklearn_version"], "1.3.0");
  EXPECT_TRUE(m->flavors["sklearn"]["code"].is_null());
  EXPECT_EQ(m->run_id, "5f1d2c3b4a6e48f0b9c8d7e6f5a4b3c2");
  EXPECT_EQ(m->model_uuid, "3b7b2d5a1f0e4c2c9a6f1d8e4b5c7a90");
  EXPECT_EQ(m->utc_time_created, "2024-01-15 10:23:45.123456");
  ASSERT_EQ(m->signature_inputs.size(), 3u);
  EXPECT_EQ(m->signature_inputs[0]["name"], "tenure");
  EXPECT_EQ(m->signature_inputs[0]["type"], "double");
  EXPECT_EQ(m->signature_inputs[1]["type"], "long");
  EXPECT_EQ(m->signature_inputs[2]["type"], "string");
  ASSERT_EQ(m->signature_outputs.size(), 1u);
  EXPECT_EQ(m->signature_outputs[0]["type"], "long");
}

TEST(MLmodel, ParsesWhatXgboostWritesWithTensorSpecs) {
  auto m = ParseMLmodel(Fixture("xgboost.MLmodel"), "MLmodel");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->flavors["xgboost"]["xgb_version"], "2.0.3");
  EXPECT_EQ(m->flavors["xgboost"]["model_class"], "xgboost.sklearn.XGBClassifier");
  EXPECT_EQ(m->flavors["python_function"]["loader_module"], "mlflow.xgboost");
  ASSERT_EQ(m->signature_inputs.size(), 1u);
  EXPECT_EQ(m->signature_inputs[0]["type"], "tensor");
  EXPECT_EQ(m->signature_inputs[0]["tensor-spec"]["dtype"], "float32");
  EXPECT_EQ(m->signature_inputs[0]["tensor-spec"]["shape"], nlohmann::json::parse("[-1, 4]"));
}

// A signature with inputs only (outputs absent, or null as MLflow writes for
// a model without an output schema) parses; it used to fail on the absent key.
TEST(MLmodel, SignatureWithoutOutputs) {
  for (const char* outputs : {"", "  outputs: null\n"}) {
    auto m = ParseMLmodel(std::string("flavors:\n  xgboost:\n    data: model.json\n"
                                      "signature:\n  inputs: '[{\"name\": \"x\", \"type\": "
                                      "\"double\"}]'\n") +
                              outputs,
                          "MLmodel");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->signature_inputs.size(), 1u);
    EXPECT_TRUE(m->signature_outputs.is_null());
  }
}

TEST(MLmodel, MalformedYamlNamesFileLineAndColumn) {
  auto m = ParseMLmodel("flavors:\n  sklearn: {a: 1\nrun_id: x\n", "model/MLmodel");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(m.status().message().rfind("model/MLmodel:", 0), 0u) << m.status().message();
  EXPECT_NE(m.status().message().find(":3:"), std::string::npos) << m.status().message();
}

TEST(MLmodel, StructuralErrorsPointAtTheNode) {
  auto bad_sig = ParseMLmodel(
      "flavors:\n  python_function: {loader_module: m}\nsignature:\n  inputs: 'not json'\n",
      "MLmodel");
  ASSERT_FALSE(bad_sig.ok());
  EXPECT_EQ(bad_sig.status().message().rfind("MLmodel:4:11:", 0), 0u) << bad_sig.status().message();

  auto no_type = ParseMLmodel(
      "flavors:\n  python_function: {loader_module: m}\nsignature:\n  inputs: '[{\"name\": "
      "\"x\"}]'\n",
      "MLmodel");
  ASSERT_FALSE(no_type.ok());
  EXPECT_NE(no_type.status().message().find("inputs[0]"), std::string::npos);

  auto flavors_list = ParseMLmodel("run_id: r\nflavors: [a, b]\n", "MLmodel");
  ASSERT_FALSE(flavors_list.ok());
  EXPECT_EQ(flavors_list.status().message().rfind("MLmodel:2:", 0), 0u)
      << flavors_list.status().message();

  EXPECT_FALSE(ParseMLmodel("run_id: r\n", "MLmodel").ok());  // no flavors
  EXPECT_FALSE(ParseMLmodel("- a\n- b\n", "MLmodel").ok());   // not a mapping
}

TEST(MLmodel, WriteThenParseRoundTrips) {
  MLmodelInfo in;
  in.artifact_path = "model";
  in.flavors["sklearn"] = {{"sklearn_version", "1.3.0"},
                           {"pickled_model", "model.pkl"},
                           {"serialization_format", "cloudpickle"},
                           {"code", nullptr}};
  in.signature_inputs = nlohmann::json::parse(
      R"([{"name": "tenure", "type": "double"}, {"name": "flag", "type": "string"}])");
  in.signature_outputs = nlohmann::json::parse(R"([{"type": "long"}])");
  in.run_id = "abc123";
  in.model_uuid = "u-1";
  in.utc_time_created = "2024-03-01 12:00:00.000000";
  in.mlflow_version = "2.9.2";
  std::string text = WriteMLmodel(in);
  auto out = ParseMLmodel(text, "MLmodel");
  ASSERT_TRUE(out.ok()) << out.status().ToString() << "\n" << text;
  EXPECT_EQ(out->flavors["sklearn"], in.flavors["sklearn"]);
  // python_function is added so any MLflow loader can serve the model.
  EXPECT_EQ(out->flavors["python_function"]["loader_module"], "mlflow.pyfunc.model");
  EXPECT_EQ(out->signature_inputs, in.signature_inputs);
  EXPECT_EQ(out->signature_outputs, in.signature_outputs);
  EXPECT_EQ(out->run_id, in.run_id);
  EXPECT_EQ(out->model_uuid, in.model_uuid);
  EXPECT_EQ(out->utc_time_created, in.utc_time_created);
  EXPECT_EQ(out->mlflow_version, in.mlflow_version);
  EXPECT_EQ(out->artifact_path, in.artifact_path);
}

TEST(MLmodel, WriterKeepsTextThatLooksLikeOtherTypes) {
  MLmodelInfo in;
  in.flavors["custom"] = {{"flag", "true"}, {"empty", ""}, {"version", "3.10"}, {"on", true}};
  auto out = ParseMLmodel(WriteMLmodel(in), "MLmodel");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->flavors["custom"]["flag"], "true");
  EXPECT_EQ(out->flavors["custom"]["empty"], "");
  EXPECT_EQ(out->flavors["custom"]["version"], "3.10");
  EXPECT_EQ(out->flavors["custom"]["on"], true);
}

TEST(MLmodel, FixturesRoundTripThroughTheWriter) {
  for (const char* name : {"sklearn.MLmodel", "xgboost.MLmodel"}) {
    auto first = ParseMLmodel(Fixture(name), name);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    auto again = ParseMLmodel(WriteMLmodel(*first), name);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(MLmodelToJson(*again), MLmodelToJson(*first)) << name;
  }
}

}  // namespace
}  // namespace cairn
