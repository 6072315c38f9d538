#include "search_spaces/spec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/error.h"

namespace fersweep::search {
namespace {

// A minimal valid spec; cases below patch one field each.
Json base_spec() {
  return Json::parse(R"({
    "method": "random",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "budget": {"trials": 3},
    "parameters": {
      "lr": {"distribution": "log_uniform", "min": 0.0001, "max": 0.01},
      "batch_size": {"values": [32, 64]},
      "arch": {"value": "vgg_custom"}
    }
  })");
}

TEST(Spec, ParsesTheShippedDefaultSweep) {
  const SweepSpec spec = load_spec_file(FERSWEEP_SOURCE_DIR "/search_spaces/default.json");
  EXPECT_EQ(spec.name, "default");
  EXPECT_EQ(spec.method, Method::kRandom);
  EXPECT_EQ(spec.objective.metric, "val_accuracy");
  EXPECT_TRUE(spec.objective.maximize);
  ASSERT_TRUE(spec.max_trials.has_value());
  EXPECT_GT(spec.parameters.size(), 5u);
  EXPECT_EQ(spec.data.image_size, 48);
}

TEST(Spec, ReadsEveryFieldOfAValidSpec) {
  Json doc = base_spec();
  doc["epochs"] = 3;
  doc["seed"] = 11;
  doc["name"] = "x";
  doc["data"] = {{"train_size", 100}, {"val_size", 20}, {"image_size", 32}, {"seed", 5}};
  doc["resources"] = {{"threads_per_worker", 2}};
  const SweepSpec spec = parse_spec(doc);
  EXPECT_EQ(spec.epochs, 3);
  EXPECT_EQ(spec.seed, 11u);
  EXPECT_EQ(*spec.max_trials, 3);
  EXPECT_EQ(spec.data.train_size, 100);
  EXPECT_EQ(spec.data.val_size, 20);
  EXPECT_EQ(spec.data.image_size, 32);
  EXPECT_EQ(spec.data.seed, 5u);
  EXPECT_EQ(spec.threads_per_worker, 2);
  ASSERT_EQ(spec.parameters.size(), 3u);
  EXPECT_EQ(spec.parameters[0].name, "arch");  // sorted by name
  EXPECT_EQ(spec.parameters[1].distribution, Distribution::kValues);
  EXPECT_EQ(spec.parameters[2].distribution, Distribution::kLogUniform);
  EXPECT_DOUBLE_EQ(spec.parameters[2].min, 0.0001);
  EXPECT_EQ(spec.document, doc);
}

struct InvalidCase {
  const char* name;
  const char* patch;  // JSON merge patch applied to base_spec()
  const char* expected_fragment;
};

class InvalidSpec : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidSpec, IsRejectedNamingTheField) {
  Json doc = base_spec();
  doc.merge_patch(Json::parse(GetParam().patch));
  try {
    parse_spec(doc);
    FAIL() << "accepted: " << doc.dump();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().expected_fragment), std::string::npos)
        << "message: " << e.what();
  }
}

const InvalidCase kInvalidCases[] = {
    {"unknown_top_key", R"({"colour": 1})", "colour: unknown field"},
    {"epochs_string", R"({"epochs": "5"})", "epochs: expected an integer, got string"},
    {"epochs_zero", R"({"epochs": 0})", "epochs: must be in [1, 100000], got 0"},
    {"negative_seed", R"({"seed": -1})", "seed: must be >= 0"},
    {"unknown_method", R"({"method": "bayes"})", "method: unknown search method \"bayes\""},
    {"metric_not_object", R"({"metric": "val_accuracy"})", "metric: expected an object"},
    {"unknown_metric", R"({"metric": {"name": "acc"}})", "metric.name: unknown metric \"acc\""},
    {"bad_goal", R"({"metric": {"goal": "up"}})", "metric.goal: expected \"maximize\""},
    {"missing_goal", R"({"metric": {"goal": null}})", "metric.goal: required field is missing"},
    {"random_without_budget", R"({"budget": null})", "budget.trials: required for method"},
    {"budget_zero", R"({"budget": {"trials": 0}})", "budget.trials: must be in"},
    {"budget_unknown", R"({"budget": {"hours": 2}})", "budget.hours: unknown field"},
    {"missing_parameters", R"({"parameters": null})", "parameters: required field is missing"},
    {"unknown_parameter", R"({"parameters": {"colour": {"value": 1}}})",
     "parameters.colour: unknown parameter (known: arch,"},
    {"min_above_max", R"({"parameters": {"lr": {"min": 0.1, "max": 0.01}}})",
     "parameters.lr: min (0.1) must be less than max (0.01)"},
    {"log_uniform_zero", R"({"parameters": {"lr": {"min": 0}}})",
     "parameters.lr.min: log_uniform needs min > 0"},
    {"unknown_distribution", R"({"parameters": {"lr": {"distribution": "normal"}}})",
     "parameters.lr.distribution: unknown distribution \"normal\""},
    {"unknown_parameter_key", R"({"parameters": {"lr": {"mean": 1}}})",
     "parameters.lr.mean: unknown field"},
    {"value_and_values", R"({"parameters": {"batch_size": {"value": 8}}})",
     "parameters.batch_size: give exactly one of"},
    {"empty_values", R"({"parameters": {"batch_size": {"values": []}}})",
     "parameters.batch_size.values: expected a non-empty list"},
    {"values_wrong_type", R"({"parameters": {"batch_size": {"values": [32, "64"]}}})",
     "parameters.batch_size.values[1]: expected an integer, got string"},
    {"duplicate_values", R"({"parameters": {"batch_size": {"values": [32, 32]}}})",
     "parameters.batch_size.values[1]: duplicate value 32"},
    {"dropout_out_of_range",
     R"({"parameters": {"dropout": {"distribution": "uniform", "min": 0.1, "max": 1.5}}})",
     "parameters.dropout.max: must be in [0, 1)"},
    {"bad_filters", R"({"parameters": {"filters": {"values": [[32, -1]]}}})",
     "parameters.filters.values[0]: every entry must be an integer"},
    {"unknown_arch", R"({"parameters": {"arch": {"value": "alexnet"}}})",
     "parameters.arch.value: unknown value \"alexnet\""},
    {"int_uniform_float_bound",
     R"({"parameters": {"batch_size": {"values": null, "distribution": "int_uniform", "min": 8.5, "max": 64}}})",
     "parameters.batch_size.min: expected an integer"},
    {"q_uniform_without_q",
     R"({"parameters": {"lr": {"distribution": "q_uniform", "min": 0.001, "max": 0.01}}})",
     "parameters.lr.q: required field is missing"},
    {"grid_with_distribution", R"({"method": "grid"})",
     "parameters.lr: grid search needs \"value\" or \"values\""},
    {"data_unknown_source", R"({"data": {"source": "fer2013"}})",
     "data.source: unknown data source \"fer2013\""},
    {"data_zero_train", R"({"data": {"train_size": 0}})", "data.train_size: must be in"},
    {"data_unknown_key", R"({"data": {"path": "/x"}})", "data.path: unknown field"},
    {"resources_negative", R"({"resources": {"threads_per_worker": -2}})",
     "resources.threads_per_worker: must be in"},
};

INSTANTIATE_TEST_SUITE_P(Cases, InvalidSpec, testing::ValuesIn(kInvalidCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Spec, TopLevelMustBeAnObject) {
  EXPECT_THROW(parse_spec(Json::array()), InputError);
}

TEST(SpecFile, SyntaxErrorNamesFileLineAndColumn) {
  const std::string path = testing::TempDir() + "/syntax_error.json";
  std::ofstream(path) << "{\n  \"method\": \"grid\",\n  \"metric\" {}\n}\n";
  try {
    load_spec_file(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3:12: invalid JSON"), std::string::npos)
        << e.what();
  }
}

TEST(SpecFile, FieldErrorsArePrefixedWithTheFile) {
  const std::string path = testing::TempDir() + "/bad_field.json";
  Json doc = base_spec();
  doc["epochs"] = -3;
  std::ofstream(path) << doc.dump();
  try {
    load_spec_file(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": epochs: must be in", 0), 0u) << e.what();
  }
}

TEST(SpecFile, MissingFileIsAnInputError) {
  try {
    load_spec_file("/nonexistent/spec.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/spec.json: cannot open spec file");
  }
}

}  // namespace
}  // namespace fersweep::search
