// Cost-aware ASHA through the sweep driver: rungs in seconds of training, with every epoch's
// reported seconds, the trials' final values and the store's rung history, also across a resume.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "coordinator/coordinator.h"
#include "coordinator/sweep_driver.h"
#include "results/queries.h"
#include "tests/test_paths.h"

namespace fersweep::coordinator {
namespace {

namespace fs = std::filesystem;

// Two kinds of network: batch 64 trains an epoch in 1 s; batch 32 learns more per epoch but takes
// 40 s for one, as ResNet-18 against the small VGGs on the synthetic faces. Seconds are reported,
// not slept. Quality grows with the learning rate.
class CostlyRunner final : public TrialRunner {
 public:
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    const bool slow = a.params.at("batch_size").get<int>() == 32;
    const double quality = 0.6 + 0.15 * (std::log10(a.params.at("lr").get<double>()) + 4);
    TrialResult result;
    double allowance = a.report_allowance_seconds;
    for (int epoch = 1; epoch <= a.epochs; ++epoch) {
      const double seconds = slow ? 40.0 : 1.0;
      if (auto overdue = report_overdue(epoch, seconds, allowance)) throw ReportOverdue(*overdue);
      const double value = (slow ? quality + 0.1 : quality) * (1 - std::exp(-epoch / 3.0));
      const EpochMetrics m{a.trial_id, epoch, seconds, {{"val_accuracy", value}}, {}};
      const EpochVerdict verdict = on_epoch(m);
      allowance = verdict.next_report_allowance;
      result.final_metrics = m.values;
      result.epochs_completed = epoch;
      if (verdict.decision == Decision::kStop) {
        result.status = TrialStatus::kPruned;
        break;
      }
    }
    return result;
  }
};

nlohmann::json spec_document(const std::string& resource) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "costly", "method": "random", "seed": 7, "epochs": 9,
    "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 16},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 1e-2},
                   "batch_size": {"values": [32, 64]}, "arch": {"value": "vgg_custom"}}
  })");
  doc["early_stopping"] = resource == "seconds"
                              ? nlohmann::json{{"type", "asha"},
                                               {"resource", "seconds"},
                                               {"min_seconds", 2},
                                               {"eta", 3}}
                              : nlohmann::json{{"type", "asha"}, {"min_epochs", 1}, {"eta", 3}};
  return doc;
}

std::string fresh_db(const std::string& name) {
  const std::string path = testing_paths::test_scratch_path(name) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  return path;
}

struct SweepCost {
  double seconds = 0;                              // training seconds over all trials
  int slow = 0, slow_stopped_at_first_report = 0;  // trials of the slow network
  int fast_finished = 0;                           // cheap networks trained to the end
};

SweepCost cost_of(const std::string& path) {
  const results::Reader reader(path);
  SweepCost cost;
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    const results::TrialDetail detail = reader.trial(t.id);
    for (const auto& e : detail.epochs) cost.seconds += e.seconds;
    if (t.params.at("batch_size") == 64) {
      cost.fast_finished += t.status == TrialStatus::kFinished;
      continue;
    }
    ++cost.slow;
    if (t.status == TrialStatus::kPruned && t.epochs_completed == 1) {
      ++cost.slow_stopped_at_first_report;
      // Judged at the rung its 40 s crossed, stored at the epoch that crossed it.
      EXPECT_EQ(detail.rungs.size(), 1u);
      if (!detail.rungs.empty()) {
        EXPECT_EQ(detail.rungs.front().epoch, 1);
      }
    }
  }
  return cost;
}

TEST(CostAwareAsha, SlowNetworksMeetWhatCheapOnesReachedInTheSameTime) {
  CostlyRunner runner;
  std::map<std::string, SweepCost> costs;
  for (const std::string resource : {"seconds", "epochs"}) {
    const std::string path = fresh_db("cost_aware_" + resource);
    results::Store store(path);
    SweepDriver driver(search::parse_spec(spec_document(resource)), store, nullptr);
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kFinished);
    costs[resource] = cost_of(path);
  }
  const SweepCost& seconds = costs.at("seconds");
  const SweepCost& epochs = costs.at("epochs");
  ASSERT_GE(seconds.slow, 8) << "the seed draws too few slow trials";
  ASSERT_EQ(epochs.slow, seconds.slow) << "the same seed draws the same configs";
  // A slow network's first epoch (40 s) is judged at the 18 s rung, where the finished cheap
  // networks count with their final values: all stop there but the first ones, drawn before a
  // cheap one finished. At equal epochs the cheap networks meet the slow ones' epochs instead,
  // where they are worse, and none trains to the end.
  EXPECT_GE(seconds.slow_stopped_at_first_report, seconds.slow - 2);
  EXPECT_GE(seconds.fast_finished, 2);
  EXPECT_EQ(epochs.fast_finished, 0);
  EXPECT_LT(seconds.seconds, epochs.seconds);
  std::printf(
      "slow trials stopped at their first report: %d of %d by seconds, %d of %d by epochs; cheap "
      "trials finished: %d and %d; training seconds %.0f and %.0f\n",
      seconds.slow_stopped_at_first_report, seconds.slow, epochs.slow_stopped_at_first_report,
      epochs.slow, seconds.fast_finished, epochs.fast_finished, seconds.seconds, epochs.seconds);
}

// With the report deadline a slow network cannot hide behind its 40 s epoch: once a cheap one
// has reported at the 2 s rung, a network still silent at the 6 s rung is stopped there, without
// a report, instead of at the 18 s rung after its first one.
TEST(CostAwareAsha, WithAReportDeadlineASilentSlowNetworkStopsAtTheNextRung) {
  nlohmann::json doc = spec_document("seconds");
  doc["early_stopping"]["report_deadline"] = true;
  const std::string path = fresh_db("cost_aware_deadline");
  CostlyRunner runner;
  {
    results::Store store(path);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kFinished);
  }
  const results::Reader reader(path);
  int slow = 0, silent = 0, reported = 0, cheap_finished = 0;
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    if (t.params.at("batch_size") == 64) {
      cheap_finished += t.status == TrialStatus::kFinished;
      continue;
    }
    ++slow;
    if (t.epochs_completed == 0) {
      ++silent;
      EXPECT_EQ(t.status, TrialStatus::kPruned) << "trial " << t.number;
      EXPECT_NE(t.error.find("report_deadline"), std::string::npos) << t.error;
      EXPECT_FALSE(t.objective.has_value()) << "it reported nothing to rank it by";
      EXPECT_TRUE(reader.trial(t.id).epochs.empty());
    } else {
      ++reported;  // drawn before any cheap network reached the first rung: it may even finish
    }
  }
  ASSERT_GE(slow, 8) << "the seed draws too few slow trials";
  EXPECT_LE(reported, 1);
  EXPECT_EQ(silent, slow - reported);
  EXPECT_GE(cheap_finished, 2);
  std::printf("slow trials stopped without a report: %d of %d; cheap trials finished: %d\n", silent,
              slow, cheap_finished);
}

// A resumed sweep rebuilds its rungs in seconds from the stored epochs' seconds and the stored
// final values: the slow network run after the resume meets the cheap ones finished before it.
TEST(CostAwareAsha, AResumedSweepKeepsItsRungsInSeconds) {
  nlohmann::json doc = spec_document("seconds");
  doc["budget"] = {{"trials", 4}};
  doc["initial_configs"] = {{{"lr", 0.002}, {"batch_size", 64}},
                            {{"lr", 0.004}, {"batch_size", 64}},
                            {{"lr", 0.008}, {"batch_size", 64}},
                            {{"lr", 0.009}, {"batch_size", 32}}};
  const std::string path = fresh_db("cost_aware_resume");
  CostlyRunner runner;
  {
    results::Store store(path);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    for (int i = 0; i < 3; ++i) {  // the cheap ones, then the process dies
      const auto assignment = driver.next_assignment();
      ASSERT_TRUE(assignment.has_value());
      driver.trial_started(assignment->trial_id, 1);
      driver.trial_done(run_trial(runner, *assignment,
                                  [&](const EpochMetrics& e) { return driver.epoch_reported(e); }));
    }
  }
  {
    results::Store store(path);
    const auto stored = store.latest_sweep_named("costly");
    ASSERT_TRUE(stored.has_value());
    SweepDriver driver(search::parse_spec(doc), store, nullptr, *stored, false);
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kFinished);
  }
  const results::Reader reader(path);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(trials[i].status, TrialStatus::kFinished) << i;
  // Its first epoch: 0.99 * (1 - e^(-1/3)) = 0.28 after 40 s, against final values 0.76-0.84.
  EXPECT_EQ(trials[3].status, TrialStatus::kPruned);
  EXPECT_EQ(trials[3].epochs_completed, 1);
}

}  // namespace
}  // namespace fersweep::coordinator
