// Configs from outside a sweep's own sampling: initial_configs, warm starts from an earlier
// sweep, and configs enqueued into a running or finished sweep.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "benchmarks/benchmark_runner.h"
#include "common/error.h"
#include "coordinator/coordinator.h"
#include "coordinator/sweep_driver.h"
#include "coordinator/warm_start.h"
#include "results/queries.h"
#include "search_spaces/known_configs.h"
#include "tests/test_paths.h"

namespace fersweep::coordinator {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<search::Parameter> space() {
  return search::parse_spec(json::parse(R"({
    "method": "random", "budget": {"trials": 1}, "benchmark": {"function": "learning_curve"},
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "parameters": {
      "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1},
      "batch_size": {"values": [16, 32, 64]},
      "dropout": {"values": [0.0, 0.5], "when": {"batch_size": [16, 32]}}
    }})"))
      .parameters;
}

std::string misfit_of(const json& config, bool partial) {
  return search::misfit(space(), config, partial).value_or("fits");
}

TEST(KnownConfigs, AMisfitNamesTheParameterAndWhy) {
  EXPECT_EQ(misfit_of({{"lr", 0.01}}, true), "fits");
  EXPECT_EQ(misfit_of({{"lr", 0.01}, {"batch_size", 32}, {"dropout", 0.5}}, false), "fits");
  EXPECT_EQ(misfit_of({{"lr", 0.01}, {"batch_size", 64}}, false), "fits");
  EXPECT_EQ(misfit_of({{"lr", 0.5}}, true), "lr: 0.5 is outside [0.0001, 0.1]");
  EXPECT_EQ(misfit_of({{"batch_size", 20}}, true), "batch_size: 20 is not one of 16, 32, 64");
  EXPECT_EQ(misfit_of({{"momentum", 0.9}}, true), "momentum: no such parameter in this space");
  EXPECT_EQ(misfit_of({{"dropout", 0.5}}, true),
            "dropout: it is conditional on batch_size; give batch_size too");
  EXPECT_EQ(misfit_of({{"batch_size", 64}, {"dropout", 0.5}}, true),
            "dropout: inactive under the given values of its parents");
  EXPECT_EQ(misfit_of({{"batch_size", 16}, {"dropout", 0.3}}, true),
            "dropout: 0.3 is not one of 0.0, 0.5");
  EXPECT_EQ(misfit_of({{"lr", 0.01}, {"batch_size", 16}}, false), "dropout: missing");
  EXPECT_EQ(misfit_of(json::array({1}), true), "not an object of parameter values");
}

TEST(KnownConfigs, IntegerAndQuantisedValuesMustLieOnTheirGrid) {
  const auto grid = search::parse_spec(json::parse(R"({
    "method": "random", "budget": {"trials": 1}, "benchmark": {"function": "branin"},
    "metric": {"name": "value", "goal": "minimize"},
    "parameters": {"x1": {"distribution": "int_uniform", "min": -5, "max": 10},
                   "x2": {"distribution": "q_uniform", "min": 0, "max": 15, "q": 0.5}}})"))
                        .parameters;
  EXPECT_FALSE(search::misfit(grid, {{"x1", 3}, {"x2", 7.5}}, false));
  EXPECT_EQ(search::misfit(grid, {{"x1", 2.5}}, true), "x1: 2.5 is not an integer");
  EXPECT_EQ(search::misfit(grid, {{"x2", 7.25}}, true), "x2: 7.25 is not a multiple of 0.5");
  EXPECT_EQ(search::misfit(grid, {{"x2", "7"}}, true), "x2: \"7\" is not a number");
}

TEST(KnownConfigs, CompletionKeepsTheGivenValuesAndDrawsTheRestInTheSpace) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    const json config = search::completed(space(), {{"batch_size", 16}}, rng);
    EXPECT_EQ(config.at("batch_size"), 16);
    EXPECT_TRUE(config.contains("dropout"));  // active under the given parent: drawn
    EXPECT_FALSE(search::misfit(space(), config, false)) << config.dump();
  }
}

TEST(KnownConfigs, TheSpecRefusesInitialConfigsOutsideItsSpace) {
  auto error_of = [](const json& patch) -> std::string {
    json doc = json::parse(R"({
      "method": "tpe", "budget": {"trials": 3}, "benchmark": {"function": "branin"},
      "metric": {"name": "value", "goal": "minimize"},
      "parameters": {"x1": {"distribution": "uniform", "min": -5, "max": 10},
                     "x2": {"distribution": "uniform", "min": 0, "max": 15}}})");
    doc.merge_patch(patch);
    try {
      search::parse_spec(doc);
    } catch (const InputError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(error_of({{"initial_configs", {{{"x1", 1}}, {{"x2", 1}}}}}), "accepted");
  EXPECT_EQ(error_of({{"initial_configs", {{{"x1", 1}}, {{"x2", 99}}}}}),
            "initial_configs[1]: x2: 99 is outside [0, 15]");
  EXPECT_EQ(error_of({{"initial_configs", {{{"x1", 1}}, {{"x1", 2}}, {{"x1", 3}}, {{"x1", 4}}}}}),
            "initial_configs: 4 configs, more than budget.trials (3)");
  EXPECT_EQ(error_of({{"initial_configs", {{"x1", 1}}}}),
            "initial_configs: expected a list of configs, got object");
  EXPECT_EQ(error_of({{"warm_start", {{"db", "a.db"}}}}),
            "warm_start.sweep: required field is missing");
  EXPECT_EQ(error_of({{"method", "random"}, {"warm_start", {{"db", "a.db"}, {"sweep", 1}}}}),
            "warm_start: method \"random\" ignores earlier results; warm starts seed \"tpe\" or "
            "\"nsga2\"");
}

class WarmStartTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing_paths::test_scratch_path("warm") + ".db";
    source_ = testing_paths::test_scratch_path("warm_source") + ".db";
    for (const std::string& p : {path_, source_}) {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);
    }
  }

  // A TPE sweep on Hartmann-6 (minimised), its spec patched.
  static json hartmann(uint64_t seed, int trials) {
    json doc = json::parse(R"({
      "name": "hartmann", "method": "tpe", "benchmark": {"function": "hartmann6"},
      "metric": {"name": "value", "goal": "minimize"}, "epochs": 1,
      "parameters": {}})");
    for (int i = 1; i <= 6; ++i) {
      doc["parameters"][fmt::format("x{}", i)] = {
          {"distribution", "uniform"}, {"min", 0}, {"max", 1}};
    }
    doc["seed"] = seed;
    doc["budget"] = {{"trials", trials}};
    return doc;
  }

  // Runs the spec in-process into `db`, warm-started as its spec says; returns the sweep id.
  static int64_t run(const json& doc, const std::string& db, std::string* summary = nullptr) {
    const search::SweepSpec spec = search::parse_spec(doc);
    std::vector<results::PriorTrial> priors;
    if (spec.warm_start) {
      WarmStartEvidence evidence = load_warm_start(spec, "spec.json");
      priors = std::move(evidence.trials);
      if (summary) *summary = evidence.summary;
    }
    results::Store store(db);
    SweepDriver driver(spec, store, nullptr, priors);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
    return driver.sweep_id();
  }

  static std::vector<results::TrialSummary> trials_of(const std::string& db, int64_t sweep) {
    return results::Reader(db).trials(sweep);
  }

  std::string path_, source_;
};

TEST_F(WarmStartTest, InitialConfigsRunFirstExactlyAsGivenAndCountInTheBudget) {
  json doc = hartmann(3, 8);
  doc["initial_configs"] = {
      {{"x1", 0.2}, {"x2", 0.15}, {"x3", 0.48}, {"x4", 0.28}, {"x5", 0.31}, {"x6", 0.66}},
      {{"x1", 0.9}}};
  const auto trials = trials_of(path_, run(doc, path_));
  ASSERT_EQ(trials.size(), 8u);
  EXPECT_EQ(trials[0].params, doc["initial_configs"][0]);
  EXPECT_EQ(trials[1].params.at("x1"), 0.9);
  EXPECT_EQ(trials[1].params.size(), 6u);  // completed by sampling
  // Reproducible, partial ones included.
  const std::string again = path_ + ".again.db";
  fs::remove(again);
  const auto repeated = trials_of(again, run(doc, again));
  for (size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(repeated[i].params, trials[i].params);
}

TEST_F(WarmStartTest, AnEarlierSweepSeedsTheSamplerAsEvidenceNotAsTrials) {
  const int64_t source = run(hartmann(1, 20), source_);
  json doc = hartmann(2, 5);
  doc["warm_start"] = {{"db", source_}, {"sweep", source}};
  std::string summary;
  const int64_t sweep = run(doc, path_, &summary);
  EXPECT_EQ(trials_of(path_, sweep).size(), 5u);
  results::Store store(path_);
  const auto priors = store.prior_trials_of(sweep);
  ASSERT_EQ(priors.size(), 20u);
  const auto earlier = trials_of(source_, source);
  for (size_t i = 0; i < priors.size(); ++i) {
    EXPECT_EQ(priors[i].params, earlier[i].params);
    ASSERT_EQ(priors[i].objectives.size(), 1u);
    EXPECT_EQ(priors[i].objectives[0], earlier[i].metrics.at("value"));
  }
  EXPECT_NE(summary.find("warm start: 20 trial(s) of sweep"), std::string::npos) << summary;
  // By name: the newest sweep of that name.
  doc["warm_start"]["sweep"] = "hartmann";
  EXPECT_EQ(load_warm_start(search::parse_spec(doc), "s.json").trials.size(), 20u);
}

TEST_F(WarmStartTest, ASpaceMismatchIsReportedAndTheConfigsOutsideDropped) {
  const int64_t source = run(hartmann(1, 30), source_);
  json doc = hartmann(2, 5);
  doc["parameters"]["x1"]["max"] = 0.5;  // the earlier configs with x1 > 0.5 fall outside
  doc["warm_start"] = {{"db", source_}, {"sweep", source}};
  const WarmStartEvidence evidence = load_warm_start(search::parse_spec(doc), "s.json");
  const auto earlier = trials_of(source_, source);
  const auto inside = std::count_if(earlier.begin(), earlier.end(), [](const auto& t) {
    return t.params.at("x1").template get<double>() <= 0.5;
  });
  ASSERT_GT(inside, 0);
  ASSERT_LT(inside, 30);
  EXPECT_EQ(evidence.trials.size(), static_cast<size_t>(inside));
  EXPECT_NE(evidence.summary.find(fmt::format("{} dropped:\n  {} outside this sweep's space (e.g. "
                                              "trial #",
                                              30 - inside, 30 - inside)),
            std::string::npos)
      << evidence.summary;
  EXPECT_NE(evidence.summary.find("x1: "), std::string::npos) << evidence.summary;
}

TEST_F(WarmStartTest, AMissingSourceOrObjectiveIsAnInputErrorNamingTheField) {
  const int64_t source = run(hartmann(1, 3), source_);
  auto error_of = [&](const json& warm, const json& patch = json::object()) -> std::string {
    json doc = hartmann(2, 5);
    doc.merge_patch(patch);
    doc["warm_start"] = warm;
    try {
      load_warm_start(search::parse_spec(doc), "s.json");
    } catch (const InputError& e) {
      return e.what();
    }
    return "loaded";
  };
  EXPECT_EQ(error_of({{"db", source_}, {"sweep", source + 7}}),
            fmt::format("s.json: warm_start.sweep: {} has no sweep {}", source_, source + 7));
  EXPECT_EQ(error_of({{"db", source_}, {"sweep", "other"}}),
            fmt::format("s.json: warm_start.sweep: {} has no sweep named \"other\"", source_));
  EXPECT_NE(error_of({{"db", source_ + ".missing"}, {"sweep", 1}}).find("s.json: warm_start.db: "),
            std::string::npos);
  // Branin records "value" too; an objective the earlier sweep never recorded is refused.
  json other = hartmann(2, 5);
  EXPECT_EQ(
      error_of({{"db", source_}, {"sweep", source}}, {{"benchmark", {{"function", "zdt1"}}},
                                                      {"metric",
                                                       {{{"name", "f1"}, {"goal", "minimize"}},
                                                        {{"name", "f2"}, {"goal", "minimize"}}}}}),
      fmt::format("s.json: warm_start.sweep: sweep {} of {} recorded none of f1, f2", source,
                  source_));
}

// The bar's warm-start check, small: Hartmann-6 at a regret of 0.2, cold TPE against TPE seeded
// with an earlier 60-trial sweep of another seed, median trials to the target over 5 seeds.
TEST_F(WarmStartTest, AWarmStartedSweepReachesTheTargetInFewerTrials) {
  const int64_t source = run(hartmann(100, 60), source_);
  constexpr double kTarget = -3.32236801141551 + 0.2;
  constexpr int kBudget = 40;
  auto trials_to_target = [&](const json& doc, const std::string& db) {
    const auto trials = trials_of(db, run(doc, db));
    for (size_t i = 0; i < trials.size(); ++i) {
      if (trials[i].metrics.at("value") <= kTarget) return static_cast<int>(i) + 1;
    }
    return kBudget + 1;
  };
  std::vector<int> cold, warm;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    json doc = hartmann(seed, kBudget);
    cold.push_back(trials_to_target(doc, fmt::format("{}.cold{}.db", path_, seed)));
    doc["warm_start"] = {{"db", source_}, {"sweep", source}};
    warm.push_back(trials_to_target(doc, fmt::format("{}.warm{}.db", path_, seed)));
  }
  std::sort(cold.begin(), cold.end());
  std::sort(warm.begin(), warm.end());
  RecordProperty("trials_to_target_warm", testing::PrintToString(warm));
  RecordProperty("trials_to_target_cold", testing::PrintToString(cold));
  EXPECT_LT(warm[2], cold[2]) << "warm " << testing::PrintToString(warm) << ", cold "
                              << testing::PrintToString(cold);
}

// Another process enqueues while the sweep runs: the coordinator starts the config before its
// next sampled one, completes what was left out, and runs it outside the budget.
class EnqueuingRunner final : public TrialRunner {
 public:
  EnqueuingRunner(std::string db, json config) : db_(std::move(db)), config_(std::move(config)) {}
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    if (++runs_ > 50) {  // a queue that never empties: stop before the database fills the disk
      std::fprintf(stderr, "the enqueued config keeps running\n");
      std::_Exit(1);
    }
    if (a.number == 2) {
      results::Store other(db_);
      other.enqueue(1, {config_});
    }
    return inner_->run(a, on_epoch);
  }

 private:
  std::string db_;
  json config_;
  int runs_ = 0;
  std::unique_ptr<TrialRunner> inner_ = benchmarks::make_benchmark_runner();
};

TEST_F(WarmStartTest, ARunningSweepStartsEnqueuedConfigsNextOutsideItsBudget) {
  const json doc = hartmann(5, 6);
  const json config = {{"x1", 0.25}, {"x2", 0.75}};
  {
    results::Store store(path_);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    ASSERT_EQ(driver.sweep_id(), 1);
    EnqueuingRunner runner(path_, config);
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kFinished);
  }
  const auto trials = trials_of(path_, 1);
  ASSERT_EQ(trials.size(), 7u);  // the budget's six and the enqueued one
  EXPECT_EQ(trials[3].params.at("x1"), 0.25);
  EXPECT_EQ(trials[3].params.at("x2"), 0.75);
  EXPECT_EQ(trials[3].params.size(), 6u);
  EXPECT_EQ(trials[3].status, TrialStatus::kFinished);
  // The sampled configs are the ones an undisturbed sweep samples, with the same seeds.
  const std::string undisturbed = path_ + ".undisturbed.db";
  fs::remove(undisturbed);
  const auto expected = trials_of(undisturbed, run(doc, undisturbed));
  ASSERT_EQ(expected.size(), 6u);
  for (size_t i = 0, j = 0; i < trials.size(); ++i) {
    if (i == 3) continue;
    EXPECT_EQ(trials[i].params, expected[j].params);
    EXPECT_EQ(trials[i].metrics, expected[j++].metrics);
  }
}

TEST_F(WarmStartTest, AResumedSweepRunsConfigsEnqueuedAfterItFinished) {
  json doc = hartmann(6, 4);
  doc["method"] = "random";  // replayed exactly on resume: a queued trial must not upset it
  run(doc, path_);
  for (double x1 : {0.1, 0.2}) {
    {
      results::Store store(path_);
      store.enqueue(1, {{{"x1", x1}}});
      const auto stored = store.latest_sweep_named("hartmann");
      ASSERT_TRUE(stored);
      SweepDriver driver(search::parse_spec(doc), store, nullptr, *stored, false);
      auto runner = benchmarks::make_benchmark_runner();
      run_in_process(driver, *runner);
      driver.finish(SweepStatus::kFinished);
    }
    const auto trials = trials_of(path_, 1);
    EXPECT_EQ(trials.back().params.at("x1"), x1);
    EXPECT_EQ(trials.back().status, TrialStatus::kFinished);
  }
  EXPECT_EQ(trials_of(path_, 1).size(), 6u);
  EXPECT_FALSE(results::Store(path_).next_queued(1));
}

}  // namespace
}  // namespace fersweep::coordinator
