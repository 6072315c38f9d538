#include "search_spaces/spec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tests/test_paths.h"

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
  ASSERT_TRUE(spec.budget.trials.has_value());
  EXPECT_GT(spec.parameters.size(), 5u);
  EXPECT_EQ(spec.data.image_size, 48);
}

TEST(Spec, ReadsEveryFieldOfAValidSpec) {
  Json doc = base_spec();
  doc["epochs"] = 3;
  doc["seed"] = 11;
  doc["name"] = "x";
  doc["data"] = {{"train_size", 100}, {"val_size", 20}, {"image_size", 32}, {"seed", 5}};
  doc["resources"] = {
      {"threads_per_worker", 2}, {"memory_gb", 3.5}, {"gpus_per_trial", 4}, {"bucket_mb", 8}};
  const SweepSpec spec = parse_spec(doc);
  EXPECT_EQ(spec.epochs, 3);
  EXPECT_EQ(spec.seed, 11u);
  EXPECT_EQ(*spec.budget.trials, 3);
  EXPECT_EQ(spec.data.train_size, 100);
  EXPECT_EQ(spec.data.val_size, 20);
  EXPECT_EQ(spec.data.image_size, 32);
  EXPECT_EQ(spec.data.seed, 5u);
  EXPECT_EQ(spec.threads_per_worker, 2);
  EXPECT_DOUBLE_EQ(spec.memory_gb, 3.5);
  EXPECT_EQ(spec.gpus_per_trial, 4);
  EXPECT_DOUBLE_EQ(spec.bucket_mb, 8.0);
  EXPECT_EQ(spec.trials_per_gpu, 1);
  EXPECT_EQ(spec.precision, Precision::kFp32);
  ASSERT_EQ(spec.parameters.size(), 3u);
  EXPECT_EQ(spec.parameters[0].name, "arch");  // sorted by name
  EXPECT_EQ(spec.parameters[1].distribution, Distribution::kValues);
  EXPECT_EQ(spec.parameters[2].distribution, Distribution::kLogUniform);
  EXPECT_DOUBLE_EQ(spec.parameters[2].min, 0.0001);
  EXPECT_EQ(spec.document, doc);
  doc["resources"] = {{"trials_per_gpu", 4}, {"precision", "bf16"}};
  EXPECT_EQ(parse_spec(doc).trials_per_gpu, 4);
  EXPECT_EQ(parse_spec(doc).precision, Precision::kBf16);
}

struct InvalidCase {
  const char* name;
  const char* patch;  // JSON merge patch applied to base_spec()
  const char* expected_fragment;
};

// CTest lists the case by its patch instead of gtest's byte dump.
void PrintTo(const InvalidCase& c, std::ostream* out) {
  *out << c.patch;
}

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
    {"random_without_budget", R"({"budget": null})",
     "budget: method \"random\" needs \"trials\", \"wall_time\" or both"},
    {"wall_time_garbage", R"({"budget": {"wall_time": "2 hours"}})",
     "budget.wall_time: cannot read duration \"2 hours\""},
    {"wall_time_unit", R"({"budget": {"wall_time": "3w"}})", "budget.wall_time: cannot read"},
    {"wall_time_negative", R"({"budget": {"wall_time": -5}})", "budget.wall_time: must be > 0"},
    {"tpe_options_for_random", R"({"tpe": {"gamma": 0.2}})", "tpe: only used with method \"tpe\""},
    {"tpe_gamma", R"({"method": "tpe", "tpe": {"gamma": 1.5}})", "tpe.gamma: must be in (0, 1)"},
    {"tpe_bandwidth", R"({"method": "tpe", "tpe": {"bandwidth": 0}})",
     "tpe.bandwidth: must be \"scott\" or a number in (0, 1], got 0"},
    {"tpe_bandwidth_rule", R"({"method": "tpe", "tpe": {"bandwidth": "silverman"}})",
     "tpe.bandwidth: must be \"scott\" or a number in (0, 1], got \"silverman\""},
    {"tpe_unknown", R"({"method": "tpe", "tpe": {"n_ei": 3}})", "tpe.n_ei: unknown field"},
    {"stopping_type", R"({"early_stopping": {"type": "patience"}})",
     "early_stopping.type: unknown rule \"patience\""},
    {"asha_no_rung", R"({"epochs": 4, "early_stopping": {"type": "asha", "min_epochs": 4}})",
     "early_stopping.min_epochs: the first rung (4) must come before the last epoch (4)"},
    {"asha_eta_one", R"({"epochs": 9, "early_stopping": {"type": "asha", "eta": 1}})",
     "early_stopping.eta: must be in [2, 100]"},
    {"seconds_resource_unknown", R"({"early_stopping": {"type": "asha", "resource": "steps"}})",
     "early_stopping.resource: unknown resource \"steps\" (choose from epochs, seconds)"},
    {"seconds_hyperband",
     R"({"early_stopping": {"type": "hyperband", "resource": "seconds", "min_seconds": 5}})",
     "early_stopping.resource: \"seconds\" works with asha only"},
    {"seconds_promotion",
     R"({"early_stopping": {"type": "asha", "resource": "seconds", "min_seconds": 5,
         "mode": "promotion"}})",
     "early_stopping.mode: \"promotion\" works with \"resource\": \"epochs\" only"},
    {"seconds_min_epochs",
     R"({"early_stopping": {"type": "asha", "resource": "seconds", "min_seconds": 5,
         "min_epochs": 2}})",
     "early_stopping.min_epochs: not used with \"resource\": \"seconds\""},
    {"seconds_missing_min", R"({"early_stopping": {"type": "asha", "resource": "seconds"}})",
     "early_stopping.min_seconds: required field is missing"},
    {"seconds_min_zero",
     R"({"early_stopping": {"type": "asha", "resource": "seconds", "min_seconds": 0}})",
     "early_stopping.min_seconds: must be a number of seconds in (0, 1e7), got 0"},
    {"min_seconds_with_epochs", R"({"early_stopping": {"type": "asha", "min_seconds": 30}})",
     "early_stopping.min_seconds: only used with \"resource\": \"seconds\""},
    {"report_deadline_with_epochs",
     R"({"early_stopping": {"type": "asha", "report_deadline": true}})",
     "early_stopping.report_deadline: only used with \"resource\": \"seconds\""},
    {"report_deadline_not_boolean",
     R"({"early_stopping": {"type": "asha", "resource": "seconds", "min_seconds": 5,
         "report_deadline": "yes"}})",
     "early_stopping.report_deadline: expected true or false"},
    {"ladder_unknown",
     R"({"epochs": 27, "early_stopping": {"type": "asha", "mode": "promotion",
         "ladder": "learned"}})",
     "early_stopping.ladder: unknown ladder \"learned\" (choose from fixed, measured)"},
    {"ladder_measured_stopping",
     R"({"epochs": 27, "early_stopping": {"type": "asha", "ladder": "measured"}})",
     "early_stopping.ladder: \"measured\" works with \"type\": \"asha\", \"mode\": \"promotion\""},
    {"ladder_measured_hyperband",
     R"({"epochs": 27, "early_stopping": {"type": "hyperband", "mode": "promotion",
         "ladder": "measured"}})",
     "early_stopping.ladder: \"measured\" works with \"type\": \"asha\""},
    {"ladder_measured_one_rung",
     R"({"epochs": 3, "early_stopping": {"type": "asha", "mode": "promotion",
         "ladder": "measured"}})",
     "early_stopping.ladder: \"measured\" chooses among rungs below epoch 3, and min_epochs 1 "
     "with eta 3 gives only one"},
    {"probe_trials_without_measured",
     R"({"epochs": 27, "early_stopping": {"type": "asha", "probe_trials": 5}})",
     "early_stopping.probe_trials: only used with \"ladder\": \"measured\""},
    {"probe_trials_too_few",
     R"({"epochs": 27, "early_stopping": {"type": "asha", "mode": "promotion",
         "ladder": "measured", "probe_trials": 2}})",
     "early_stopping.probe_trials: must be in [3, 10000], got 2"},
    {"ladder_measured_several_objectives",
     R"({"epochs": 27, "metric": [{"name": "val_accuracy", "goal": "maximize"},
                                  {"name": "val_loss", "goal": "minimize"}],
         "early_stopping": {"type": "asha", "mode": "promotion", "ladder": "measured"}})",
     "early_stopping.ladder: \"measured\" compares one objective's rankings"},
    {"median_with_eta", R"({"early_stopping": {"type": "median", "eta": 3}})",
     "early_stopping.eta: unknown field"},
    {"when_unknown_parent", R"({"parameters": {"dropout": {"value": 0.3, "when": {"nope": 1}}}})",
     "parameters.dropout.when.nope: no such parameter"},
    {"when_continuous_parent",
     R"({"parameters": {"dropout": {"value": 0.3, "when": {"lr": 0.001}}}})",
     "parameters.dropout.when.lr: the parent must be a \"value\" or \"values\" parameter"},
    {"when_never_true",
     R"({"parameters": {"dropout": {"value": 0.3, "when": {"batch_size": [32, 128]}}}})",
     "parameters.dropout.when.batch_size: 128 is not one of batch_size's values"},
    {"when_self", R"({"parameters": {"batch_size": {"when": {"batch_size": 32}}}})",
     "parameters.batch_size.when.batch_size: a parameter cannot depend on itself"},
    {"when_cycle",
     R"({"parameters": {"augment": {"values": [true, false], "when": {"optimizer": "sgd"}},
                        "optimizer": {"values": ["sgd", "adam"], "when": {"augment": true}}}})",
     "conditions form a cycle"},
    {"when_empty", R"({"parameters": {"batch_size": {"when": {}}}})",
     "parameters.batch_size.when: expected at least one condition"},
    {"benchmark_unknown", R"({"benchmark": {"function": "rosenbrock"}})",
     "benchmark.function: unknown benchmark function \"rosenbrock\""},
    {"benchmark_metric", R"({"benchmark": {"function": "branin"}, "parameters": {}})",
     "metric.name: unknown metric \"val_accuracy\" (choose from value)"},
    {"benchmark_parameter",
     R"({"benchmark": {"function": "branin"}, "metric": {"name": "value", "goal": "minimize"}})",
     "parameters.arch: unknown parameter (known: x1, x2)"},
    {"benchmark_range",
     R"({"benchmark": {"function": "branin"}, "metric": {"name": "value", "goal": "minimize"},
         "parameters": {"lr": null, "batch_size": null, "arch": null,
                        "x1": {"distribution": "uniform", "min": -10, "max": 10}}})",
     "parameters.x1.min: must be in [-5, 10], got -10"},
    {"benchmark_with_data",
     R"({"benchmark": {"function": "learning_curve"}, "data": {"train_size": 10}})",
     "data: a benchmark sweep trains on no data"},
    {"benchmark_noise", R"({"benchmark": {"function": "branin", "noise_sd": -1}})",
     "benchmark.noise_sd: must be >= 0"},
    {"budget_zero", R"({"budget": {"trials": 0}})", "budget.trials: must be in"},
    {"budget_unknown", R"({"budget": {"hours": 2}})", "budget.hours: unknown field"},
    {"missing_parameters", R"({"parameters": null})", "parameters: required field is missing"},
    {"unknown_parameter", R"({"parameters": {"colour": {"value": 1}}})",
     "parameters.colour: unknown parameter (known: sources, grouping, crop, arch,"},
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
     "parameters.arch.value: unknown architecture \"alexnet\""},
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
    {"sources_without_files", R"({"parameters": {"sources": {"value": ["fer"]}}})",
     "parameters.sources.value: needs named files in data.sources"},
    {"unknown_source",
     R"({"data": {"sources": {"fer": {"format": "fer2013", "path": "x.csv"}}},
         "parameters": {"sources": {"values": [["fer"], ["ck"]]}}})",
     "parameters.sources.values[1]: unknown source \"ck\" (data.sources has fer)"},
    {"source_twice",
     R"({"data": {"sources": {"fer": {"format": "fer2013", "path": "x.csv"}}},
         "parameters": {"sources": {"value": ["fer", "fer"]}}})",
     "parameters.sources.value: source \"fer\" listed twice"},
    {"unknown_grouping", R"({"parameters": {"grouping": {"value": "valence"}}})",
     "parameters.grouping.value: unknown grouping \"valence\" (known: fer7, merge_anger_disgust"},
    {"source_format", R"({"data": {"sources": {"x": {"format": "csv", "path": "a"}}}})",
     "data.sources.x.format: unknown format \"csv\""},
    {"source_no_path", R"({"data": {"sources": {"x": {"format": "jaffe"}}}})",
     "data.sources.x.path"},
    {"source_unknown_key",
     R"({"data": {"sources": {"x": {"format": "jaffe", "path": "j", "peak_frames": 2}}}})",
     "data.sources.x.peak_frames: unknown field"},
    {"grouping_emotion", R"({"data": {"groupings": {"v": {"a": ["happy"], "b": ["joy"]}}}})",
     "data.groupings.v.b: unknown emotion \"joy\""},
    {"grouping_builtin_name",
     R"({"data": {"groupings": {"fer7": {"a": ["happy"], "b": ["sad"]}}}})",
     "data.groupings.fer7: \"fer7\" is a built-in grouping"},
    {"split_unknown",
     R"({"data": {"split": "random", "sources": {"x": {"format": "jaffe", "path": "j"}}}})",
     "data.split: unknown split \"random\""},
    {"sizes_with_sources",
     R"({"data": {"train_size": 100, "sources": {"x": {"format": "jaffe", "path": "j"}}}})",
     "data.train_size: only for synthetic data"},
    {"fractions",
     R"({"data": {"val_fraction": 0.6, "test_fraction": 0.5,
                  "sources": {"x": {"format": "jaffe", "path": "j"}}}})",
     "data: val_fraction > 0, test_fraction >= 0 and their sum < 1"},
    {"memory_negative", R"({"resources": {"memory_gb": -1}})",
     "resources.memory_gb: must be in [0, 1000000] GiB, got -1"},
    {"memory_text", R"({"resources": {"memory_gb": "8G"}})",
     "resources.memory_gb: expected a number"},
    {"gang_zero", R"({"resources": {"gpus_per_trial": 0}})",
     "resources.gpus_per_trial: must be in [1, 1024], got 0"},
    {"packed_gang", R"({"resources": {"gpus_per_trial": 2, "trials_per_gpu": 4}})",
     "resources.trials_per_gpu: a trial spanning 2 GPUs owns them; trials_per_gpu must then be 1, "
     "got 4"},
    {"precision", R"({"resources": {"precision": "fp16"}})",
     "resources.precision: unknown value \"fp16\" (choose from fp32, bf16)"},
    {"packing_zero", R"({"resources": {"trials_per_gpu": 0}})",
     "resources.trials_per_gpu: must be in [1, 64], got 0"},
    {"bucket_zero", R"({"resources": {"bucket_mb": 0}})",
     "resources.bucket_mb: must be in (0, 1024] MiB, got 0"},
    {"unknown_stem", R"({"parameters": {"stem": {"value": "tiny"}}})",
     "parameters.stem.value: unknown value \"tiny\""},
    {"schedule_typo", R"({"parameters": {"schedule": {"values": ["cosine", "cosnie"]}}})",
     "parameters.schedule.values[1]: unknown value \"cosnie\""},
    {"failures_unknown", R"({"failures": {"retry": 2}})", "failures.retry: unknown field"},
    {"retries_negative", R"({"failures": {"retries": -1}})",
     "failures.retries: must be in [0, 100]"},
    {"time_limit_text", R"({"failures": {"trial_time_limit": "soon"}})",
     "failures.trial_time_limit: cannot read duration \"soon\""},
    {"deadline_negative", R"({"failures": {"progress_deadline": -5}})",
     "failures.progress_deadline: must be > 0 seconds, got -5"},
    {"fault_kind", R"({"benchmark": {"function": "branin", "faults": {"2": "explode"}}})",
     "benchmark.faults.2: expected \"throw\", \"nan\" or \"sleep\""},
    {"fault_number", R"({"benchmark": {"function": "branin", "faults": {"two": "nan"}}})",
     "benchmark.faults.two: expected a trial number"},
    {"constraint_unknown_metric", R"({"constraints": {"size": {"max": 2}}})",
     "constraints.size: unknown metric \"size\" (choose from train_loss, train_accuracy, "
     "val_loss, val_accuracy, val_macro_f1, param_count, flops, train_memory_mb, inference_ms, "
     "batch_inference_ms)"},
    {"constraint_no_bound", R"({"constraints": {"param_count": {}}})",
     "constraints.param_count: give \"min\", \"max\" or both"},
    {"constraint_bound_text", R"({"constraints": {"flops": {"max": "1G"}}})",
     "constraints.flops.max: expected a number"},
    {"constraint_with_pbt",
     R"({"method": "pbt", "budget": null, "constraints": {"param_count": {"max": 1e6}}})",
     "constraints: PBT's population trains every member"},
    {"costs_unmeasured_objective",
     R"({"metric": [{"name": "val_accuracy", "goal": "maximize"},
                    {"name": "inference_ms", "goal": "minimize"}],
         "costs": {"latency": false}})",
     "costs: inference_ms is an objective or a constraint; it must be measured"},
    {"costs_batch", R"({"costs": {"inference_batch": 0}})", "costs.inference_batch: must be in"},
    {"costs_unknown", R"({"costs": {"energy": true}})", "costs.energy: unknown field"},
    {"costs_benchmark",
     R"({"benchmark": {"function": "branin"}, "metric": {"name": "value", "goal": "minimize"},
         "costs": {"latency": true}, "parameters": {"lr": null, "batch_size": null, "arch": null,
                   "x1": {"distribution": "uniform", "min": -5, "max": 10}}})",
     "costs: a benchmark sweep trains no network to measure"},
};

INSTANTIATE_TEST_SUITE_P(Cases, InvalidSpec, testing::ValuesIn(kInvalidCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Spec, ReadsBudgetSamplerAndEarlyStopping) {
  Json doc = base_spec();
  doc["method"] = "tpe";
  doc["epochs"] = 27;
  doc["budget"] = {{"trials", 40}, {"wall_time", "1h30m"}};
  doc["tpe"] = {{"startup_trials", 4},
                {"multivariate", false},
                {"constant_liar", false},
                {"bandwidth", 0.25}};
  doc["early_stopping"] = {{"type", "hyperband"}, {"min_epochs", 2}, {"eta", 4}};
  const SweepSpec spec = parse_spec(doc);
  EXPECT_EQ(spec.method, Method::kTpe);
  EXPECT_EQ(*spec.budget.trials, 40);
  EXPECT_DOUBLE_EQ(*spec.budget.wall_seconds, 5400);
  EXPECT_EQ(spec.tpe.startup_trials, 4);
  EXPECT_FALSE(spec.tpe.multivariate);
  EXPECT_FALSE(spec.tpe.constant_liar);
  EXPECT_EQ(spec.tpe.candidates, 24);  // default kept
  EXPECT_DOUBLE_EQ(spec.tpe.bandwidth.value(), 0.25);
  doc["tpe"]["bandwidth"] = "scott";
  EXPECT_EQ(parse_spec(doc).tpe.bandwidth, TpeOptions::kScottBandwidth);
  doc["tpe"].erase("bandwidth");  // unset: chosen by the number of objectives
  const TpeOptions unset = parse_spec(doc).tpe;
  EXPECT_FALSE(unset.bandwidth.has_value());
  EXPECT_DOUBLE_EQ(unset.bandwidth_for(1), TpeOptions::kSingleObjectiveBandwidth);
  EXPECT_EQ(unset.bandwidth_for(3), TpeOptions::kScottBandwidth);
  EXPECT_EQ(spec.early_stopping.rule, StoppingRule::kHyperband);
  EXPECT_EQ(spec.early_stopping.min_epochs, 2);
  EXPECT_EQ(spec.early_stopping.eta, 4);
  EXPECT_EQ(spec.early_stopping.resource, StoppingResource::kEpochs);
  doc["early_stopping"] = {{"type", "asha"}, {"resource", "seconds"}, {"min_seconds", 45.5}};
  EXPECT_EQ(parse_spec(doc).early_stopping.resource, StoppingResource::kSeconds);
  EXPECT_DOUBLE_EQ(parse_spec(doc).early_stopping.min_seconds, 45.5);
  EXPECT_EQ(parse_spec(doc).early_stopping.eta, 3);
  EXPECT_FALSE(parse_spec(doc).early_stopping.report_deadline);
  doc["early_stopping"]["report_deadline"] = true;
  EXPECT_TRUE(parse_spec(doc).early_stopping.report_deadline);

  doc["budget"] = {{"wall_time", 90}};
  EXPECT_DOUBLE_EQ(*parse_spec(doc).budget.wall_seconds, 90);
  EXPECT_FALSE(parse_spec(doc).budget.trials.has_value());
  doc["budget"] = {{"wall_time", "1d2h3m4.5s"}};
  EXPECT_DOUBLE_EQ(*parse_spec(doc).budget.wall_seconds, 86400 + 7200 + 180 + 4.5);
}

TEST(Spec, ConditionalParametersFollowTheirParents) {
  Json doc = base_spec();
  // "augment" sorts before "optimizer" but depends on it; "momentum" depends on "augment".
  doc["parameters"]["optimizer"] = {{"values", {"sgd", "adam"}}};
  doc["parameters"]["augment"] = {{"values", {true, false}}, {"when", {{"optimizer", "sgd"}}}};
  doc["parameters"]["momentum"] = {{"distribution", "uniform"},
                                   {"min", 0.5},
                                   {"max", 0.99},
                                   {"when", {{"augment", true}, {"optimizer", {"sgd"}}}}};
  const SweepSpec spec = parse_spec(doc);
  std::vector<std::string> order;
  for (const auto& p : spec.parameters) order.push_back(p.name);
  EXPECT_EQ(order, (std::vector<std::string>{"arch", "batch_size", "lr", "optimizer", "augment",
                                             "momentum"}));
  ASSERT_EQ(spec.parameters[5].when.size(), 2u);
  EXPECT_EQ(spec.parameters[5].when[0].parent, "augment");
  EXPECT_EQ(spec.parameters[5].when[0].allowed, (std::vector<Json>{true}));
}

TEST(Spec, ReadsABenchmarkSweep) {
  const SweepSpec spec = parse_spec(Json::parse(R"({
    "method": "sobol", "metric": {"name": "value", "goal": "minimize"},
    "budget": {"trials": 8},
    "benchmark": {"function": "hartmann6", "noise_sd": 0.01, "seconds_per_epoch": 0.5},
    "parameters": {"x1": {"distribution": "uniform", "min": 0, "max": 1}, "x6": {"value": 0.5}}
  })"));
  EXPECT_EQ(spec.method, Method::kSobol);
  EXPECT_EQ(spec.benchmark["function"], "hartmann6");
  EXPECT_DOUBLE_EQ(spec.benchmark["noise_sd"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(spec.benchmark["seconds_per_epoch"].get<double>(), 0.5);
  EXPECT_EQ(spec.objective.metric, "value");
}

// search_spaces/spec.schema.json documents the language for editors and other tools; it must
// not drift from what the parser accepts.
TEST(SpecSchema, AgreesWithTheParser) {
  std::ifstream file(FERSWEEP_SOURCE_DIR "/search_spaces/spec.schema.json");
  ASSERT_TRUE(file);
  const Json schema = Json::parse(file);
  const Json& properties = schema.at("properties");

  for (const auto& method : properties.at("method").at("enum")) {
    Json doc = base_spec();
    doc["method"] = method;
    if (method == "grid") doc["parameters"].erase("lr");
    if (method == "pbt") {
      doc.erase("budget");
      doc["parameters"]["lr"]["mutable"] = true;
    }
    EXPECT_NO_THROW(parse_spec(doc)) << method;
  }
  for (const auto& alternative : properties.at("early_stopping").at("oneOf")) {
    const Json& type = alternative.at("properties").at("type");
    for (const auto& name :
         type.contains("enum") ? type.at("enum") : Json::array({type.at("const")})) {
      Json rule = {{"type", name}};
      for (const auto& [key, body] : alternative.at("properties").items()) {
        if (key == "type") continue;
        // A required field has no default: its documented example instead.
        rule[key] = body.contains("default") ? body.at("default")
                    : body.contains("const") ? body.at("const")
                                             : body.at("examples").at(0);
      }
      Json doc = base_spec();
      doc["epochs"] = 9;
      doc["early_stopping"] = rule;
      EXPECT_NO_THROW(parse_spec(doc)) << rule.dump();
    }
  }
  // Every documented field of these sections is accepted with its documented default.
  for (const char* section :
       {"tpe", "nsga2", "pbt", "data", "resources", "benchmark", "failures", "costs"}) {
    Json doc = base_spec();
    if (std::string(section) == "tpe" || std::string(section) == "nsga2") doc["method"] = section;
    if (std::string(section) == "pbt") {
      doc["method"] = "pbt";
      doc["epochs"] = 4;
      doc.erase("budget");
      doc["parameters"]["lr"]["mutable"] = true;
    }
    Json body = Json::object();
    for (const auto& [key, field] : properties.at(section).at("properties").items()) {
      if (key == "sources") continue;  // no default: its own case below
      if (!field.contains("default") && !field.contains("enum")) continue;  // e.g. time limits
      body[key] = field.contains("default") ? field.at("default") : field.at("enum").at(0);
    }
    doc[section] = body;
    if (std::string(section) == "benchmark") {
      doc["metric"]["name"] = "value";
      doc["parameters"] = {{"x1", {{"value", 1.0}}}};
    }
    EXPECT_NO_THROW(parse_spec(doc)) << section << " " << body.dump();
  }
  for (const Json& limit : {Json(90), Json("1h30m")}) {
    Json doc = base_spec();
    doc["failures"] = {{"trial_time_limit", limit}, {"progress_deadline", limit}};
    EXPECT_DOUBLE_EQ(parse_spec(doc).trial_time_limit, limit.is_number() ? 90.0 : 5400.0);
    EXPECT_DOUBLE_EQ(parse_spec(doc).progress_deadline, limit.is_number() ? 90.0 : 5400.0);
  }
  for (const auto& function :
       properties.at("benchmark").at("properties").at("function").at("enum")) {
    Json doc = base_spec();
    doc["benchmark"] = {{"function", function}};
    const std::string name = function;
    const bool curve = name.starts_with("learning_curve") || name == "lr_schedule";
    const bool pareto = name.starts_with("zdt") || name == "dtlz2";
    doc["metric"]["name"] = curve ? "val_accuracy" : pareto ? "f1" : "value";
    doc["parameters"] = Json::object();
    EXPECT_NO_THROW(parse_spec(doc)) << function;
  }
  // A source of every format, with every documented field at its default.
  const Json& source_fields =
      properties.at("data").at("properties").at("sources").at("additionalProperties");
  Json sources = Json::object();
  for (const auto& format : source_fields.at("properties").at("format").at("enum")) {
    Json source = {{"format", format}, {"path", "somewhere"}};
    for (const auto& [key, field] : source_fields.at("properties").items()) {
      const bool ckplus_only = field.value("description", "") == "ckplus only";
      if (field.contains("default") && (!ckplus_only || format == "ckplus")) {
        source[key] = field.at("default");
      }
    }
    sources[format.get<std::string>()] = source;
  }
  Json with_sources = base_spec();
  with_sources["data"] = {{"sources", sources}};
  EXPECT_NO_THROW(parse_spec(with_sources)) << sources.dump();
  std::vector<std::string> distributions;
  for (const auto& alternative : schema.at("$defs").at("parameter").at("oneOf")) {
    const Json& d = alternative.at("properties");
    if (!d.contains("distribution")) continue;
    for (const auto& name : d.at("distribution").contains("enum")
                                ? d.at("distribution").at("enum")
                                : Json::array({d.at("distribution").at("const")})) {
      Json doc = base_spec();
      doc["parameters"]["lr"] = {{"distribution", name}, {"min", 1}, {"max", 4}, {"q", 1}};
      if (!d.contains("q")) doc["parameters"]["lr"].erase("q");
      EXPECT_NO_THROW(parse_spec(doc)) << name;
      distributions.push_back(name);
    }
  }
  EXPECT_EQ(distributions.size(), 5u);
  // Several objectives, and constraints on costs and trained metrics.
  Json pareto = base_spec();
  pareto["metric"] = Json::array({{{"name", "val_macro_f1"}, {"goal", "maximize"}},
                                  {{"name", "inference_ms"}, {"goal", "minimize"}}});
  pareto["constraints"] = {{"param_count", {{"max", 2e6}}}, {"val_accuracy", {{"min", 0.3}}}};
  const SweepSpec constrained = parse_spec(pareto);
  EXPECT_EQ(constrained.constraints.size(), 2u);
  EXPECT_TRUE(constrained.costs.latency) << "an objective names a latency";
  EXPECT_FALSE(constrained.costs.memory);
}

TEST(Spec, ShippedSpecsAllParse) {
  int parsed = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(FERSWEEP_SOURCE_DIR "/search_spaces/examples")) {
    EXPECT_NO_THROW(load_spec_file(entry.path().string())) << entry.path();
    ++parsed;
  }
  EXPECT_GE(parsed, 4);
}

TEST(Spec, TopLevelMustBeAnObject) {
  EXPECT_THROW(parse_spec(Json::array()), InputError);
}

TEST(SpecFile, SyntaxErrorNamesFileLineAndColumn) {
  const std::string path = testing_paths::test_scratch_path("syntax_error") + ".json";
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
  const std::string path = testing_paths::test_scratch_path("bad_field") + ".json";
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
