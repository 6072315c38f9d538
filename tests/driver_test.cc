#include "coordinator/sweep_driver.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "benchmarks/benchmark_runner.h"
#include "coordinator/coordinator.h"
#include "results/queries.h"

namespace fersweep::coordinator {
namespace {

namespace fs = std::filesystem;

class DriverTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TempDir() + "/driver_" +
            testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }

  // Runs a learning-curve benchmark sweep in-process and returns its id.
  int64_t run(const nlohmann::json& patch) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "method": "random", "seed": 4, "epochs": 9,
      "metric": {"name": "val_accuracy", "goal": "maximize"},
      "budget": {"trials": 30},
      "benchmark": {"function": "learning_curve"},
      "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
                     "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8}}
    })");
    doc.merge_patch(patch);
    results::Store store(path_);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish("finished");
    return driver.sweep_id();
  }

  std::string path_;
};

TEST_F(DriverTest, AshaPrunesTrialsThatKeepTheirMetrics) {
  const int64_t sweep =
      run({{"early_stopping", {{"type", "asha"}, {"min_epochs", 1}, {"eta", 3}}}});
  const results::Reader reader(path_);
  const auto trials = reader.trials(sweep);
  ASSERT_EQ(trials.size(), 30u);
  int pruned = 0, finished = 0, epochs = 0;
  for (const auto& t : trials) {
    epochs += t.epochs_completed;
    if (t.status == "pruned") {
      ++pruned;
      // Stopped exactly at a rung (1 or 3), with that epoch's metrics stored.
      EXPECT_TRUE(t.epochs_completed == 1 || t.epochs_completed == 3) << t.epochs_completed;
      const auto detail = reader.trial(t.id);
      ASSERT_EQ(static_cast<int>(detail.epochs.size()), t.epochs_completed);
      EXPECT_DOUBLE_EQ(*t.objective, detail.epochs.back().values.at("val_accuracy"));
    } else {
      EXPECT_EQ(t.status, "finished");
      EXPECT_EQ(t.epochs_completed, 9);
      ++finished;
    }
  }
  EXPECT_GT(pruned, 10);
  EXPECT_GT(finished, 0);
  EXPECT_LT(epochs, 30 * 9 / 2);  // ASHA spends well under half the full budget here
}

TEST_F(DriverTest, WithoutEarlyStoppingEveryTrialRunsEveryEpoch) {
  const int64_t sweep = run(nlohmann::json::object());
  for (const auto& t : results::Reader(path_).trials(sweep)) {
    EXPECT_EQ(t.status, "finished");
    EXPECT_EQ(t.epochs_completed, 9);
  }
}

TEST_F(DriverTest, SameSpecAndSeedGiveTheSameTrials) {
  const nlohmann::json tpe = {{"method", "tpe"},
                              {"tpe", {{"startup_trials", 5}}},
                              {"early_stopping", {{"type", "hyperband"}, {"min_epochs", 1}}}};
  const int64_t first = run(tpe), second = run(tpe);
  const results::Reader reader(path_);
  const auto a = reader.trials(first), b = reader.trials(second);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].params, b[i].params) << i;
    EXPECT_EQ(a[i].status, b[i].status) << i;
    EXPECT_EQ(a[i].objective, b[i].objective) << i;
  }
}

TEST_F(DriverTest, WallTimeBudgetEndsTheSweep) {
  // 0.05 s per epoch and a 0.3 s budget: a few epochs run, then the running trial is stopped and
  // no new trial starts, although the trial budget (1000) is far from spent.
  const int64_t sweep = run({{"budget", {{"trials", 1000}, {"wall_time", 0.3}}},
                             {"benchmark", {{"seconds_per_epoch", 0.05}}}});
  const auto trials = results::Reader(path_).trials(sweep);
  ASSERT_FALSE(trials.empty());
  EXPECT_LT(trials.size(), 3u);
  EXPECT_EQ(trials.back().status, "pruned");
}

}  // namespace
}  // namespace fersweep::coordinator
