#include "coordinator/sweep_driver.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "benchmarks/benchmark_runner.h"
#include "benchmarks/functions.h"
#include "common/error.h"
#include "common/state_files.h"
#include "common/stop_signal.h"
#include "coordinator/coordinator.h"
#include "coordinator/sweep_setup.h"
#include "results/queries.h"
#include "tests/test_paths.h"

namespace fersweep::coordinator {
namespace {

namespace fs = std::filesystem;

class DriverTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing_paths::test_scratch_path("driver") + ".db";
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
    driver.finish(SweepStatus::kFinished);
    return driver.sweep_id();
  }

  std::string path_;
};

// A network that diverges in an epoch's last steps reports an infinite or NaN validation metric,
// or a NaN test metric at the end. The trial fails saying so; the store never sees the value and
// the sweep goes on (the metric columns are NOT NULL: before, the coordinator threw and the job
// aborted).
class DivergingRunner final : public TrialRunner {
 public:
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    TrialResult result;
    for (int epoch = 1; epoch <= a.epochs; ++epoch) {
      EpochMetrics m{a.trial_id, epoch, 0.1, {{"val_accuracy", 0.5}, {"val_loss", 1.0}}, {}};
      if (a.number % 3 == 1 && epoch == 2) m.values["val_loss"] = INFINITY;
      if (on_epoch(m) == Decision::kStop) break;
      result.final_metrics = m.values;
      result.epochs_completed = epoch;
    }
    if (a.number % 3 == 2) result.final_metrics["test_accuracy"] = NAN;
    return result;
  }
};

TEST_F(DriverTest, ANonFiniteMetricFailsItsTrialAndTheSweepGoesOn) {
  const nlohmann::json doc = nlohmann::json::parse(R"({
    "method": "random", "epochs": 3, "metric": {"name": "val_accuracy", "goal": "maximize"},
    "budget": {"trials": 6}, "parameters": {"lr": {"values": [0.1, 0.01]}}
  })");
  int64_t sweep_id = 0;
  {
    results::Store store(path_);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    DivergingRunner runner;
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kFinished);
    sweep_id = driver.sweep_id();
  }
  const auto trials = results::Reader(path_).trials(sweep_id);
  ASSERT_EQ(trials.size(), 6u);
  for (const auto& t : trials) {
    if (t.number % 3 == 0) {
      EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
      continue;
    }
    EXPECT_EQ(t.status, TrialStatus::kFailed);
    const std::string why = t.number % 3 == 1 ? "diverged: val_loss is inf after epoch 2"
                                              : "diverged: test_accuracy is nan at the end";
    EXPECT_NE(t.error.find(why), std::string::npos) << t.error;
    EXPECT_EQ(t.epochs_completed, t.number % 3 == 1 ? 1 : 3);
    EXPECT_TRUE(t.metrics.empty());
  }
}

// Placement and the packing refusal with the GPUs injected: what rank 0 checks before the database
// is touched, on a node this CPU machine pretends to be.
TEST_F(DriverTest, GpuPackingIsRefusedBeforeTheDatabaseIsTouched) {
  const std::string spec_path = testing_paths::test_scratch_path("packing") + ".json";
  std::ofstream(spec_path) << R"({
    "method": "random", "metric": {"name": "val_accuracy", "goal": "maximize"},
    "budget": {"trials": 2}, "resources": {"trials_per_gpu": 4},
    "parameters": {"lr": {"value": 0.01}}
  })";
  MachineFacts gpu_node;
  gpu_node.gpus = 2;
  gpu_node.hardware_threads = 16;
  gpu_node.gpu_memory_gb = [](int) { return std::optional<double>(80.0); };
  RunOptions options;
  options.spec_path = spec_path;
  options.db_path = path_;
  options.quiet = true;
  // 8 training ranks fill 2 GPUs x 4 slots exactly; a ninth does not fit.
  const NodePlacement fits{8, 7}, too_many{9, 8};
  const search::SweepSpec spec =
      load_spec_for_run(options, 9, fits, place_rank({}, fits, gpu_node));
  EXPECT_EQ(spec.trials_per_gpu, 4);
  try {
    load_spec_for_run(options, 10, too_many, place_rank({}, too_many, gpu_node));
    ADD_FAILURE() << "9 ranks on 8 GPU slots were accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              spec_path +
                  ": 9 training ranks on this node share 2 GPU(s), but "
                  "resources.trials_per_gpu 4 allows 8: start at most 8 training ranks "
                  "per node, or raise trials_per_gpu");
  }
  // The same ranks on the CPU (--device cpu) are not limited by GPU slots.
  DeviceRequest cpu;
  cpu.kind = DeviceRequest::Kind::kCpu;
  EXPECT_NO_THROW(load_spec_for_run(options, 10, too_many, place_rank(cpu, too_many, gpu_node)));
  EXPECT_FALSE(fs::exists(path_)) << "nothing here opens the database";
}

// Counts the epochs its runner reports and raises a stop signal at the `stop_at`-th.
class StoppingRunner final : public TrialRunner {
 public:
  explicit StoppingRunner(int stop_at) : stop_at_(stop_at) {}
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    return inner_->run(a, [&](const EpochMetrics& m) {
      if (++reported_ == stop_at_) request_stop(SIGTERM);
      return on_epoch(m);
    });
  }

 private:
  std::unique_ptr<TrialRunner> inner_ = benchmarks::make_benchmark_runner();
  int stop_at_, reported_ = 0;
};

// A stop signal pauses the running trial after its epoch with its training state kept; --resume
// continues that same trial (its number, its row) from there, and every epoch equals the
// uninterrupted sweep's bit for bit, the noise stream included.
TEST_F(DriverTest, AStoppedSweepContinuesItsTrialFromTheirLastEpochExactly) {
  search::SweepSpec spec = search::parse_spec(nlohmann::json::parse(R"({
    "method": "random", "seed": 5, "epochs": 6, "checkpoints": "every_epoch",
    "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 4},
    "benchmark": {"function": "learning_curve", "noise_sd": 0.05},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1},
                   "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8}}
  })"));
  using Curves = std::map<int, std::vector<std::map<std::string, double>>>;  // by trial number
  const auto curves = [](const std::string& db) {
    Curves out;
    const results::Reader reader(db);
    for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
      EXPECT_EQ(t.status, TrialStatus::kFinished) << t.number << " " << t.error;
      for (const auto& e : reader.trial(t.id).epochs) out[t.number].push_back(e.values);
    }
    return out;
  };
  const std::string plain = path_ + ".plain.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(plain + suffix);
  {
    results::Store store(plain);
    spec.state_dir = testing_paths::test_scratch_path("states_plain");
    SweepDriver driver(spec, store, nullptr);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
  }
  spec.state_dir = testing_paths::test_scratch_path("states_stopped");
  fs::remove_all(spec.state_dir);
  {
    results::Store store(path_);
    SweepDriver driver(spec, store, nullptr);
    StoppingRunner runner(8);  // in trial #1's second epoch
    run_in_process(driver, runner);
    driver.finish(SweepStatus::kInterrupted);
    EXPECT_EQ(driver.interrupted(), 1u);
  }
  request_stop(0);
  {
    results::Store store(path_);
    SweepDriver driver(spec, store, nullptr, *store.latest_sweep_named("sweep"), false);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
  }
  const Curves expected = curves(plain), got = curves(path_);
  EXPECT_EQ(got.size(), 4u) << "the paused trial continued as itself, not as a new trial";
  EXPECT_EQ(got, expected);
  // Finished trials keep no state: only a live trial needs one.
  EXPECT_TRUE(fs::is_empty(spec.state_dir));
}

// A lost worker's trial continues elsewhere from the last state it reported, as the same trial
// with the next run number (so the files of the two runs never clash); without a state it runs
// again from the start as a new trial.
TEST_F(DriverTest, ALostTrialContinuesFromItsLastStateOnAnotherWorker) {
  search::SweepSpec spec = search::parse_spec(nlohmann::json::parse(R"({
    "method": "random", "epochs": 4, "checkpoints": "every_epoch",
    "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 2},
    "benchmark": {"function": "learning_curve"},
    "parameters": {"lr": {"values": [0.001, 0.01]}}
  })"));
  spec.state_dir = testing_paths::test_scratch_path("lost_states");
  results::Store store(path_);
  SweepDriver driver(spec, store, nullptr);
  const TrialAssignment first = *driver.next_assignment();
  const TrialAssignment second = *driver.next_assignment();
  EXPECT_EQ(first.state_dir, spec.state_dir);
  driver.trial_started(first.trial_id, 1);
  driver.trial_started(second.trial_id, 2);
  fs::create_directories(spec.state_dir);
  const std::string state_file = spec.state_dir + "/trial.r0.e0002.state";
  std::ofstream(state_file) << "the state after epoch 2";
  const StateRef saved{state_file, 2, *file_digest(state_file)};
  driver.epoch_reported({first.trial_id, 1, 0.1, {{"val_accuracy", 0.3}}, {"/s/e1", 1, 41}});
  driver.epoch_reported({first.trial_id, 2, 0.1, {{"val_accuracy", 0.4}}, saved});
  driver.trial_lost(second.trial_id, "lost: test");
  driver.trial_lost(first.trial_id, "lost: test");  // the last lost goes first in line

  const TrialAssignment continued = *driver.next_assignment();
  EXPECT_EQ(continued.trial_id, first.trial_id);
  EXPECT_EQ(continued.number, first.number);
  EXPECT_EQ(continued.seed, first.seed);
  EXPECT_EQ(continued.run, 1);
  EXPECT_EQ(continued.resume, saved);
  const TrialAssignment again = *driver.next_assignment();
  EXPECT_NE(again.trial_id, second.trial_id);
  EXPECT_EQ(again.params, second.params);
  EXPECT_EQ(again.seed, second.seed);
  EXPECT_TRUE(again.resume.empty());
  const auto stored = store.trials_of(driver.sweep_id(), {"val_accuracy"});
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].status, TrialStatus::kPending) << "reopened for its continuation";
  EXPECT_EQ(stored[0].epochs_completed, 2);
  EXPECT_EQ(stored[1].status, TrialStatus::kInterrupted);
  const results::Reader reader(path_);
  EXPECT_EQ(reader.trial(first.trial_id).trial.runs, 2);
  EXPECT_EQ(reader.trial(first.trial_id).trial.epochs_redone, 1) << "the epoch in flight";
  EXPECT_EQ(reader.trial(second.trial_id).trial.epochs_redone, 0) << "it did not continue";

  // Lost again, and its state damaged meanwhile: reported, and run again from the start as a new
  // trial with the config's seed, never a crash.
  driver.trial_started(continued.trial_id, 1);
  std::ofstream(state_file) << "the state after epoch 2, overwritten";
  driver.trial_lost(continued.trial_id, "lost: test");
  const TrialAssignment restarted = *driver.next_assignment();
  EXPECT_NE(restarted.trial_id, first.trial_id);
  EXPECT_EQ(restarted.params, first.params);
  EXPECT_EQ(restarted.seed, first.seed);
  EXPECT_TRUE(restarted.resume.empty());
  EXPECT_EQ(restarted.run, 0);
}

// Every trial's epochs (by trial number) and, per rung epoch, (value, outcome) of each trial.
struct SweepRecord {
  std::map<int, std::vector<std::map<std::string, double>>> curves;
  std::map<int, std::vector<std::pair<double, RungOutcome>>> rungs;
  std::map<int, TrialStatus> status;
  std::map<int, int> runs;
};

SweepRecord record_of(const std::string& db) {
  SweepRecord out;
  const results::Reader reader(db);
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    const results::TrialDetail d = reader.trial(t.id);
    for (const auto& e : d.epochs) out.curves[t.number].push_back(e.values);
    for (const auto& r : d.rungs) out.rungs[r.epoch].push_back({r.value, r.outcome});
    out.status[t.number] = t.status;
    out.runs[t.number] = t.runs;
  }
  return out;
}

search::SweepSpec promotion_spec(const std::string& mode, const std::string& state_dir) {
  search::SweepSpec spec = search::parse_spec(nlohmann::json::parse(fmt::format(R"({{
    "method": "random", "seed": 4, "epochs": 9,
    "metric": {{"name": "val_accuracy", "goal": "maximize"}}, "budget": {{"trials": 30}},
    "early_stopping": {{"type": "asha", "min_epochs": 1, "eta": 3, "mode": "{}"}},
    "benchmark": {{"function": "learning_curve", "noise_sd": 0.02}},
    "parameters": {{"lr": {{"distribution": "log_uniform", "min": 1e-5, "max": 0.3}},
                   "dropout": {{"distribution": "uniform", "min": 0.0, "max": 0.8}}}}
  }})",
                                                                                mode)));
  spec.state_dir = state_dir;
  fs::remove_all(state_dir);
  return spec;
}

void run_sweep(const search::SweepSpec& spec, const std::string& db, TrialRunner& runner) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
  results::Store store(db);
  SweepDriver driver(spec, store, nullptr);
  run_in_process(driver, runner);
  driver.finish(stop_signal() ? SweepStatus::kInterrupted : SweepStatus::kFinished);
}

// `fersweep run --resume` on the sweep in `db`.
void resume_sweep(const search::SweepSpec& spec, const std::string& db, TrialRunner& runner) {
  results::Store store(db);
  SweepDriver driver(spec, store, nullptr, *store.latest_sweep_named("sweep"), false);
  run_in_process(driver, runner);
  driver.finish(SweepStatus::kFinished);
}

// The sweep stopped by a signal after `stop_at` epoch reports, then resumed to its end.
void stop_and_resume(const search::SweepSpec& spec, const std::string& db, int stop_at,
                     TrialRunner& runner) {
  StoppingRunner stopping_runner(stop_at);
  run_sweep(spec, db, stopping_runner);
  request_stop(0);
  resume_sweep(spec, db, runner);
}

// Promotion-based ASHA: trials pause at rungs 1 and 3 and continue from their state when they
// earn a promotion. Each trial's epochs are exactly the first epochs of the same config trained
// without early stopping; at the end every rung's top floor(n / 3) went up, everything else
// ended pruned where it paused, and no state is left.
TEST_F(DriverTest, PromotionAshaPausesAtRungsAndContinuesTheTopExactly) {
  const std::string states = testing_paths::test_scratch_path("promotion_states");
  auto runner = benchmarks::make_benchmark_runner();
  run_sweep(promotion_spec("promotion", states), path_, *runner);
  search::SweepSpec full = promotion_spec("stop", states + "_full");
  full.early_stopping.rule = search::StoppingRule::kNone;
  run_sweep(full, path_ + ".full.db", *runner);
  const SweepRecord got = record_of(path_), reference = record_of(path_ + ".full.db");

  ASSERT_EQ(got.status.size(), 30u);
  int finished = 0, epochs = 0;
  for (const auto& [number, curve] : got.curves) {
    epochs += static_cast<int>(curve.size());
    const auto& full_curve = reference.curves.at(number);
    ASSERT_LE(curve.size(), full_curve.size());
    EXPECT_TRUE(std::equal(curve.begin(), curve.end(), full_curve.begin())) << "trial " << number;
    const TrialStatus status = got.status.at(number);
    EXPECT_TRUE(status == TrialStatus::kFinished || status == TrialStatus::kPruned) << number;
    if (status == TrialStatus::kFinished) {
      ++finished;
      EXPECT_EQ(curve.size(), 9u);
      EXPECT_EQ(got.runs.at(number), 3) << "paused at two rungs, promoted from both";
    } else {
      EXPECT_TRUE(curve.size() == 1 || curve.size() == 3) << curve.size();
      EXPECT_EQ(got.runs.at(number), curve.size() == 1 ? 1 : 2);
    }
  }
  EXPECT_GE(finished, 1);
  EXPECT_LT(epochs, 30 * 9 / 2) << "promotion saves most of the epochs";
  for (const int rung : {1, 3}) {
    std::vector<std::pair<double, RungOutcome>> arrivals = got.rungs.at(rung);
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    const size_t top = arrivals.size() / 3;
    ASSERT_GE(top, 1u) << "rung " << rung;
    for (size_t i = 0; i < arrivals.size(); ++i) {
      const RungOutcome outcome = arrivals[i].second;
      if (i < top) {
        EXPECT_EQ(outcome, RungOutcome::kPromoted) << "rung " << rung << " #" << i;
      }
      EXPECT_TRUE(outcome == RungOutcome::kPromoted || outcome == RungOutcome::kStopped)
          << "nothing is left paused";
    }
  }
  EXPECT_TRUE(fs::is_empty(states)) << "ended trials keep no state";
}

// Promotion mode with TPE: a trial that pauses at a rung may wait there until the sweep ends, so
// the sampler hears of it when it pauses. The model then takes over after its 5 startup trials;
// told only at the end, it would sample at random throughout, as the same sweep does with a
// startup longer than the sweep. Both start with the same configs and part after the startup, and
// the model's later trials lead at the first rung (it learns from paused trials what ASHA keeps).
TEST_F(DriverTest, TpeInPromotionModeLearnsFromPausedTrials) {
  const std::string states = testing_paths::test_scratch_path("promotion_tpe");
  auto runner = benchmarks::make_benchmark_runner();
  auto run_tpe = [&](int startup_trials, const std::string& db) {
    search::SweepSpec spec = promotion_spec("promotion", states);
    spec.method = search::Method::kTpe;
    spec.tpe.startup_trials = startup_trials;
    run_sweep(spec, db, *runner);
    return record_of(db);
  };
  const SweepRecord model = run_tpe(5, path_), random = run_tpe(1000, path_ + ".random.db");
  ASSERT_EQ(model.curves.size(), 30u);
  ASSERT_EQ(random.curves.size(), 30u);
  auto rung_one = [](const SweepRecord& r, int number) {
    return r.curves.at(number).front().at("val_accuracy");
  };
  std::vector<double> model_late, random_late;
  for (int number = 0; number < 30; ++number) {
    if (number < 5) {
      EXPECT_EQ(rung_one(model, number), rung_one(random, number)) << "startup trial " << number;
    } else {
      EXPECT_NE(rung_one(model, number), rung_one(random, number)) << "trial " << number;
    }
    if (number >= 15) {
      model_late.push_back(rung_one(model, number));
      random_late.push_back(rung_one(random, number));
    }
  }
  std::sort(model_late.begin(), model_late.end());
  std::sort(random_late.begin(), random_late.end());
  EXPECT_GT(model_late[7], random_late[7]) << "median first-rung accuracy of trials 15-29";
}

// A promotion sweep stopped by a signal keeps its paused trials paused; --resume restores them,
// and the sweep ends as the uninterrupted one does, epoch for epoch and rung for rung.
TEST_F(DriverTest, AStoppedPromotionSweepResumesItsPausedTrials) {
  const std::string states = testing_paths::test_scratch_path("promotion_resume");
  auto runner = benchmarks::make_benchmark_runner();
  run_sweep(promotion_spec("promotion", states + "_plain"), path_ + ".plain.db", *runner);

  const search::SweepSpec spec = promotion_spec("promotion", states);
  StoppingRunner stopping_runner(40);
  run_sweep(spec, path_, stopping_runner);
  request_stop(0);
  int paused = 0;
  for (const auto& [number, status] : record_of(path_).status) {
    paused += status == TrialStatus::kPaused;
  }
  EXPECT_GE(paused, 2) << "the stop came while trials waited at rungs";
  resume_sweep(spec, path_, *runner);
  const SweepRecord got = record_of(path_), expected = record_of(path_ + ".plain.db");
  EXPECT_EQ(got.curves, expected.curves);
  EXPECT_EQ(got.status, expected.status);
  EXPECT_EQ(got.rungs, expected.rungs);
  EXPECT_TRUE(fs::is_empty(states));
}

// The measured ladder (search_spaces/measured_ladder.h) with 5 probes over rungs 1 and 3: the
// probes train unjudged to epoch 3, the log says what their agreement chose, every trial's epochs
// are the first epochs of its config trained without early stopping, and a sweep stopped before
// the choice or after it resumes to the uninterrupted sweep, rung for rung.
TEST_F(DriverTest, AMeasuredLadderProbesFirstAndResumesToTheSameSweep) {
  const std::string states = testing_paths::test_scratch_path("measured_ladder");
  auto measured = [&](const std::string& dir) {
    search::SweepSpec spec = promotion_spec("promotion", dir);
    spec.early_stopping.measured_ladder = true;
    spec.early_stopping.probe_trials = 5;
    return spec;
  };
  auto runner = benchmarks::make_benchmark_runner();
  const std::string log_path = path_ + ".log";
  {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + ".plain.db" + suffix);
    results::Store store(path_ + ".plain.db");
    std::FILE* log = std::fopen(log_path.c_str(), "w");
    SweepDriver driver(measured(states + "_plain"), store, log);
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
    std::fclose(log);
  }
  std::ifstream log_file(log_path);
  const std::string log((std::istreambuf_iterator<char>(log_file)), {});
  EXPECT_NE(log.find("measured ladder: 5 of 5 probes reached epoch 3, agreement "),
            std::string::npos)
      << log;
  search::SweepSpec unpruned = promotion_spec("stop", states + "_full");
  unpruned.early_stopping.rule = search::StoppingRule::kNone;
  run_sweep(unpruned, path_ + ".full.db", *runner);
  const SweepRecord expected = record_of(path_ + ".plain.db");
  const SweepRecord full = record_of(path_ + ".full.db");
  ASSERT_EQ(expected.curves.size(), 30u);
  for (const auto& [number, curve] : expected.curves) {
    if (number < 5) {
      EXPECT_GE(curve.size(), 3u) << "probe " << number << " ran to the horizon";
    }
    EXPECT_TRUE(std::equal(curve.begin(), curve.end(), full.curves.at(number).begin()))
        << "trial " << number;
  }

  for (const int stop_at : {8, 40}) {  // during the probes; after the choice
    const std::string dir = fmt::format("{}_{}", states, stop_at);
    stop_and_resume(measured(dir), path_, stop_at, *runner);
    const SweepRecord got = record_of(path_);
    EXPECT_EQ(got.curves, expected.curves) << "stopped after " << stop_at << " epochs";
    EXPECT_EQ(got.status, expected.status) << stop_at;
    EXPECT_EQ(got.rungs, expected.rungs) << stop_at;
  }
}

TEST_F(DriverTest, AshaPrunesTrialsThatKeepTheirMetrics) {
  const int64_t sweep =
      run({{"early_stopping", {{"type", "asha"}, {"min_epochs", 1}, {"eta", 3}}}});
  const results::Reader reader(path_);
  const auto trials = reader.trials(sweep);
  ASSERT_EQ(trials.size(), 30u);
  int pruned = 0, finished = 0, epochs = 0;
  for (const auto& t : trials) {
    epochs += t.epochs_completed;
    if (t.status == TrialStatus::kPruned) {
      ++pruned;
      // Stopped exactly at a rung (1 or 3), with that epoch's metrics stored.
      EXPECT_TRUE(t.epochs_completed == 1 || t.epochs_completed == 3) << t.epochs_completed;
      const auto detail = reader.trial(t.id);
      ASSERT_EQ(static_cast<int>(detail.epochs.size()), t.epochs_completed);
      EXPECT_DOUBLE_EQ(*t.objective, detail.epochs.back().values.at("val_accuracy"));
    } else {
      EXPECT_EQ(t.status, TrialStatus::kFinished);
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
    EXPECT_EQ(t.status, TrialStatus::kFinished);
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
  EXPECT_EQ(trials.back().status, TrialStatus::kPruned);
}

// Crash and resume, in-process: a sweep stops with trials still running (the driver is simply
// dropped, as a killed coordinator would be), and a new driver resumes it from the database.
class ResumeTest : public DriverTest {
 protected:
  // A fresh database path beside path_, so reruns start clean.
  std::string fresh(const std::string& suffix) const {
    const std::string path = path_ + suffix;
    for (const char* extra : {"", "-wal", "-shm"}) fs::remove(path + extra);
    return path;
  }
  static nlohmann::json spec_document(const std::string& method) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "name": "resumable", "seed": 9, "epochs": 3,
      "metric": {"name": "val_accuracy", "goal": "maximize"},
      "budget": {"trials": 12},
      "benchmark": {"function": "learning_curve"},
      "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3},
                     "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8}}
    })");
    doc["method"] = method;
    if (method == "tpe") doc["tpe"] = {{"startup_trials", 4}};
    return doc;
  }
  // Finishes `finished` trials, then starts `running` more and stops without finishing them.
  void run_and_crash(const nlohmann::json& doc, const std::string& path, int finished,
                     int running) {
    results::Store store(path);
    SweepDriver driver(search::parse_spec(doc), store, nullptr);
    auto runner = benchmarks::make_benchmark_runner();
    for (int i = 0; i < finished; ++i) {
      const auto assignment = driver.next_assignment();
      driver.trial_started(assignment->trial_id, 1);
      driver.trial_done(run_trial(*runner, *assignment,
                                  [&](const EpochMetrics& e) { return driver.epoch_reported(e); }));
    }
    for (int i = 0; i < running; ++i) {
      const auto assignment = driver.next_assignment();
      driver.trial_started(assignment->trial_id, 2);
      EpochMetrics first_epoch{assignment->trial_id, 1, 0.1, {{"val_accuracy", 0.5}}, {}};
      driver.epoch_reported(first_epoch);
    }
  }
  void resume(const nlohmann::json& doc, const std::string& path) {
    results::Store store(path);
    const auto stored = store.latest_sweep_named("resumable");
    ASSERT_TRUE(stored.has_value());
    SweepDriver driver(search::parse_spec(doc), store, nullptr, *stored, false);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
  }
  // The finished trials' configs, in trial order.
  static std::vector<std::string> finished_configs(const std::string& path) {
    const results::Reader reader(path);
    std::vector<std::string> configs;
    for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
      if (t.status == TrialStatus::kFinished) configs.push_back(t.params.dump());
    }
    return configs;
  }
};

// Random and Sobol suggestions depend on the seed alone: the resumed sweep finishes exactly the
// configs the uninterrupted one does, the two interrupted ones run again, nothing runs twice.
TEST_F(ResumeTest, DeterministicSamplersContinueExactlyWhereTheyStopped) {
  for (const std::string method : {"random", "sobol"}) {
    SCOPED_TRACE(method);
    const nlohmann::json doc = spec_document(method);
    const std::string straight = fresh("." + method + ".straight");
    {
      results::Store store(straight);
      SweepDriver driver(search::parse_spec(doc), store, nullptr);
      auto runner = benchmarks::make_benchmark_runner();
      run_in_process(driver, *runner);
    }
    const std::string crashed = fresh("." + method + ".crashed");
    run_and_crash(doc, crashed, 5, 2);
    resume(doc, crashed);

    auto expected = finished_configs(straight), got = finished_configs(crashed);
    ASSERT_EQ(expected.size(), 12u);
    ASSERT_EQ(got.size(), 12u);
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected);
    const results::Reader reader(crashed);
    const auto trials = reader.trials(reader.sweep(std::nullopt).id);
    EXPECT_EQ(trials.size(), 14u);  // 12 configs, 2 of them interrupted and run again
    EXPECT_EQ(std::count_if(trials.begin(), trials.end(),
                            [](const auto& t) { return t.status == TrialStatus::kInterrupted; }),
              2);
    EXPECT_EQ(reader.sweep(std::nullopt).status, SweepStatus::kFinished);
  }
}

// TPE's suggestions depend on when results arrived, so a resumed TPE sweep is not the
// uninterrupted one; it is a pure function of the database: resuming the same state twice
// gives the same configs, and the budget is met exactly.
TEST_F(ResumeTest, TpeResumesFromTheStoredResultsReproducibly) {
  const nlohmann::json doc = spec_document("tpe");
  const std::string crashed = fresh(".tpe");
  run_and_crash(doc, crashed, 6, 1);
  const std::string copy = fresh(".tpe.copy");
  fs::copy_file(crashed, copy);
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(crashed + suffix)) fs::copy_file(crashed + suffix, copy + suffix);
  }
  resume(doc, crashed);
  resume(doc, copy);
  const auto first = finished_configs(crashed), second = finished_configs(copy);
  EXPECT_EQ(first.size(), 12u);
  EXPECT_EQ(first, second);
}

// Multi-fidelity TPE with ASHA over a conditional space runs its budget, and a resumed sweep,
// which replays every stored epoch into the sampler, is a pure function of the database.
TEST_F(ResumeTest, MultiFidelityTpeOverAConditionalSpaceResumesReproducibly) {
  nlohmann::json doc = spec_document("tpe");
  doc["epochs"] = 9;
  doc["budget"]["trials"] = 24;
  doc["tpe"] = {{"startup_trials", 4}, {"multi_fidelity", true}};
  doc["early_stopping"] = {{"type", "asha"}, {"min_epochs", 1}, {"eta", 3}};
  doc["parameters"]["batch_size"] = {{"values", {32, 64}}};
  doc["parameters"]["dropout"]["when"] = {{"batch_size", {64}}};
  const std::string crashed = fresh(".mf");
  run_and_crash(doc, crashed, 10, 2);
  const std::string copy = fresh(".mf.copy");
  fs::copy_file(crashed, copy);
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(crashed + suffix)) fs::copy_file(crashed + suffix, copy + suffix);
  }
  resume(doc, crashed);
  resume(doc, copy);
  const results::Reader first(crashed), second(copy);
  const auto a = first.trials(first.sweep(std::nullopt).id);
  const auto b = second.trials(second.sweep(std::nullopt).id);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].params, b[i].params);
  int judged = 0;
  for (const auto& t : a) {
    if (t.status == TrialStatus::kFinished || t.status == TrialStatus::kPruned) ++judged;
    EXPECT_EQ(t.params.contains("dropout"), t.params.at("batch_size") == 64) << t.params.dump();
  }
  EXPECT_EQ(judged, 24);
}

// A job killed after a trial's last epoch was stored but before its end was: the worker left that
// epoch's state, so the resumed sweep finishes the trial from it and trains nothing again (the
// worker used to remove its states as the trial ended, and the trial then ran again from scratch).
TEST_F(ResumeTest, ATrialKilledAfterItsLastEpochFinishesWithoutTrainingAgain) {
  nlohmann::json doc = spec_document("random");
  doc["budget"]["trials"] = 1;
  doc["checkpoints"] = "every_epoch";
  search::SweepSpec spec = search::parse_spec(doc);
  const std::string db = fresh(".last_epoch");
  spec.state_dir = db + ".states";
  fs::remove_all(spec.state_dir);
  {
    results::Store store(db);
    SweepDriver driver(spec, store, nullptr);
    auto runner = benchmarks::make_benchmark_runner();
    const auto assignment = driver.next_assignment();
    driver.trial_started(assignment->trial_id, 1);
    // Every epoch reaches the driver; the result never does.
    run_trial(*runner, *assignment,
              [&](const EpochMetrics& e) { return driver.epoch_reported(e); });
  }
  {
    results::Store store(db);
    SweepDriver driver(spec, store, nullptr, *store.latest_sweep_named("resumable"), false);
    auto runner = benchmarks::make_benchmark_runner();
    run_in_process(driver, *runner);
    driver.finish(SweepStatus::kFinished);
  }
  const results::Reader reader(db);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].status, TrialStatus::kFinished);
  EXPECT_EQ(trials[0].runs, 2) << "continued, not run again as a new trial";
  EXPECT_EQ(trials[0].epochs_redone, 0);
  EXPECT_EQ(reader.trial(trials[0].id).epochs.size(), 3u);
  EXPECT_TRUE(fs::is_empty(spec.state_dir)) << "removed once the end was stored";
}

// A multi-objective sweep resumes with its stored front: the sampler hears every finished
// trial's objectives again. NSGA-II without crossover or mutation makes each child a copy of a
// parent with one parameter moved, so every config after the resume differs from a trial stored
// before it in at most one parameter; a sampler that had lost the front would draw random
// configs, differing in all three. Resuming the same database twice gives the same configs.
TEST_F(ResumeTest, AMultiObjectiveSweepContinuesFromItsStoredFront) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "resumable", "method": "nsga2", "seed": 2, "epochs": 1,
    "metric": [{"name": "f1", "goal": "minimize"}, {"name": "f2", "goal": "minimize"}],
    "budget": {"trials": 20},
    "nsga2": {"population": 6, "crossover_probability": 0, "mutation_probability": 0},
    "benchmark": {"function": "zdt1"},
    "parameters": {"x1": {"distribution": "uniform", "min": 0, "max": 1},
                   "x2": {"distribution": "uniform", "min": 0, "max": 1},
                   "x3": {"distribution": "uniform", "min": 0, "max": 1}}
  })");
  const std::string crashed = fresh(".mo");
  run_and_crash(doc, crashed, 8, 1);
  const auto before = finished_configs(crashed);
  ASSERT_EQ(before.size(), 8u);
  const std::string copy = fresh(".mo.copy");
  fs::copy_file(crashed, copy);
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(crashed + suffix)) fs::copy_file(crashed + suffix, copy + suffix);
  }
  resume(doc, crashed);
  resume(doc, copy);
  const auto after = finished_configs(crashed);
  EXPECT_EQ(after, finished_configs(copy));
  ASSERT_EQ(after.size(), 20u);
  for (size_t i = 8; i < after.size(); ++i) {
    const auto child = nlohmann::json::parse(after[i]);
    int fewest = 3;
    for (size_t j = 0; j < i; ++j) {
      const auto other = nlohmann::json::parse(after[j]);
      int differing = 0;
      for (const char* x : {"x1", "x2", "x3"}) differing += child[x] != other[x];
      fewest = std::min(fewest, differing);
    }
    EXPECT_LE(fewest, 1) << after[i];
  }
}

search::SweepSpec pbt_spec(const std::string& state_dir) {
  search::SweepSpec spec = search::parse_spec(nlohmann::json::parse(R"({
    "method": "pbt", "seed": 3, "epochs": 8,
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "pbt": {"population": 6, "perturbation_interval": 2, "quantile": 0.25,
            "resample_probability": 0.25},
    "benchmark": {"function": "lr_schedule"},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-5, "max": 0.3, "mutable": true},
                   "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.8, "mutable": true}}
  })"));
  spec.state_dir = state_dir;
  fs::remove_all(state_dir);
  return spec;
}

// Every member's epochs and schedule, by trial number.
struct PopulationRecord {
  std::map<int, std::vector<double>> curves;  // val_accuracy per epoch
  std::map<int, std::vector<std::tuple<int, std::optional<int64_t>, nlohmann::json>>> schedules;
  std::map<int, results::TrialSummary> trials;
};

PopulationRecord population_of(const std::string& db) {
  PopulationRecord out;
  const results::Reader reader(db);
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    const results::TrialDetail d = reader.trial(t.id);
    for (const auto& e : d.epochs) out.curves[t.number].push_back(e.values.at("val_accuracy"));
    for (const auto& r : d.schedule)
      out.schedules[t.number].emplace_back(r.epoch, r.parent, r.params);
    out.trials[t.number] = t;
  }
  return out;
}

// PBT on the schedule-dependent benchmark: every two epochs the population pauses together, its
// worst member loads the best member's state and continues with that member's params explored.
// The member's next epoch is exactly one step of the benchmark from the parent's state with the
// new params: the state was copied and the params applied.
TEST_F(DriverTest, PbtMembersLoadTheBestMembersStateAndExploreItsParams) {
  const std::string states = testing_paths::test_scratch_path("pbt_states");
  auto runner = benchmarks::make_benchmark_runner();
  const search::SweepSpec spec = pbt_spec(states);
  run_sweep(spec, path_, *runner);
  const PopulationRecord got = population_of(path_);

  ASSERT_EQ(got.trials.size(), 6u);
  std::map<int64_t, int> number_of;
  for (const auto& [number, t] : got.trials) {
    number_of[t.id] = number;
    EXPECT_EQ(t.status, TrialStatus::kFinished) << number;
    EXPECT_EQ(got.curves.at(number).size(), 8u);
    EXPECT_EQ(t.runs, 4) << "paused after epochs 2, 4 and 6";
  }
  std::map<int, int> exploits_at;
  for (const auto& [number, schedule] : got.schedules) {
    ASSERT_FALSE(schedule.empty());
    EXPECT_EQ(std::get<0>(schedule.front()), 0) << "the initial config";
    for (size_t i = 1; i < schedule.size(); ++i) {
      const auto& [epoch, parent, params] = schedule[i];
      ASSERT_TRUE(parent.has_value());
      ++exploits_at[epoch];
      const int from = number_of.at(*parent);
      // The worst member at the generation loads the best one's state.
      for (const auto& [other, curve] : got.curves) {
        EXPECT_GE(got.curves.at(from)[epoch - 1], curve[epoch - 1]);
        EXPECT_LE(got.curves.at(number)[epoch - 1], curve[epoch - 1]);
      }
      const double lr = params.at("lr").get<double>(), dropout = params.at("dropout").get<double>();
      EXPECT_GE(lr, 1e-5);
      EXPECT_LE(lr, 0.3);
      EXPECT_DOUBLE_EQ(got.curves.at(number)[epoch],
                       benchmarks::lr_schedule_step(lr, dropout, got.curves.at(from)[epoch - 1]))
          << "trial #" << number << " after epoch " << epoch;
    }
  }
  EXPECT_EQ(exploits_at, (std::map<int, int>{{2, 1}, {4, 1}, {6, 1}}));
  EXPECT_TRUE(fs::is_empty(states)) << "finished members keep no state";

  // Same spec and seed: the same lineage, schedules and epochs.
  run_sweep(pbt_spec(states + "_again"), path_ + ".again.db", *runner);
  const PopulationRecord again = population_of(path_ + ".again.db");
  EXPECT_EQ(again.curves, got.curves);
  EXPECT_EQ(again.schedules.size(), got.schedules.size());
  for (const auto& [number, schedule] : got.schedules) {
    const auto& other = again.schedules.at(number);
    ASSERT_EQ(other.size(), schedule.size());
    for (size_t i = 0; i < schedule.size(); ++i) {
      EXPECT_EQ(std::get<0>(other[i]), std::get<0>(schedule[i]));
      EXPECT_EQ(std::get<2>(other[i]), std::get<2>(schedule[i]));
    }
  }
}

// A PBT sweep stopped by a signal, mid-generation or right after one, resumes to exactly the
// population the uninterrupted sweep ends with.
TEST_F(DriverTest, AStoppedPbtSweepResumesToTheSamePopulation) {
  const std::string states = testing_paths::test_scratch_path("pbt_resume");
  auto runner = benchmarks::make_benchmark_runner();
  run_sweep(pbt_spec(states + "_plain"), path_ + ".plain.db", *runner);
  const PopulationRecord expected = population_of(path_ + ".plain.db");
  for (const int stop_at : {9, 12, 13, 28}) {
    const std::string db = fmt::format("{}.{}.db", path_, stop_at);
    const search::SweepSpec spec = pbt_spec(fmt::format("{}_{}", states, stop_at));
    stop_and_resume(spec, db, stop_at, *runner);
    const PopulationRecord got = population_of(db);
    EXPECT_EQ(got.curves, expected.curves) << "stopped at report " << stop_at;
    for (const auto& [number, schedule] : expected.schedules) {
      ASSERT_EQ(got.schedules.at(number).size(), schedule.size()) << stop_at << " #" << number;
      for (size_t i = 0; i < schedule.size(); ++i) {
        EXPECT_EQ(std::get<2>(got.schedules.at(number)[i]), std::get<2>(schedule[i]));
      }
    }
    EXPECT_TRUE(fs::is_empty(spec.state_dir)) << stop_at;
  }
}

}  // namespace
}  // namespace fersweep::coordinator

namespace fersweep::coordinator {
namespace {

// Costs grow with `width_multiplier` (param_count = width x 1e6) and so does the trained score.
class CostedRunner final : public TrialRunner {
 public:
  std::vector<double> trained_widths;
  std::map<std::string, double> measure_costs(const TrialAssignment& a) override {
    return {{"param_count", a.params.at("width_multiplier").get<double>() * 1e6}};
  }
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    const double width = a.params.at("width_multiplier");
    trained_widths.push_back(width);
    TrialResult result;
    for (int epoch = 1; epoch <= a.epochs; ++epoch) {
      EpochMetrics m{a.trial_id, epoch, 0.1, {{"val_macro_f1", 0.3 * width + 0.01 * epoch}}, {}};
      if (on_epoch(m) != Decision::kContinue) break;
      result.final_metrics = m.values;
      result.epochs_completed = epoch;
    }
    return result;
  }
};

class ConstrainedSweepTest : public DriverTest {
 protected:
  std::vector<results::TrialSummary> run_constrained(const nlohmann::json& constraints,
                                                     CostedRunner& runner) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "method": "tpe", "seed": 5, "epochs": 2, "tpe": {"startup_trials": 4},
      "metric": [{"name": "val_macro_f1", "goal": "maximize"},
                 {"name": "param_count", "goal": "minimize"}],
      "budget": {"trials": 12},
      "parameters": {"width_multiplier": {"distribution": "uniform", "min": 0.25, "max": 2.0}}
    })");
    doc["constraints"] = constraints;
    int64_t sweep_id = 0;
    {
      results::Store store(path_);
      SweepDriver driver(search::parse_spec(doc), store, nullptr);
      run_in_process(driver, runner);
      driver.finish(SweepStatus::kFinished);
      sweep_id = driver.sweep_id();
    }
    return results::Reader(path_).trials(sweep_id);
  }
};

// A config whose costs break a bound is stored infeasible with its costs and the bound it broke,
// never reaches the trainer, and does not count against the budget: twelve configs still train.
TEST_F(ConstrainedSweepTest, CostBoundsAreCheckedBeforeTrainingAndOutsideTheBudget) {
  CostedRunner runner;
  const auto trials = run_constrained({{"param_count", {{"max", 1.2e6}}}}, runner);
  ASSERT_EQ(runner.trained_widths.size(), 12u);
  for (double width : runner.trained_widths) EXPECT_LE(width, 1.2);
  int infeasible = 0;
  for (const auto& t : trials) {
    if (t.status != TrialStatus::kInfeasible) {
      EXPECT_EQ(t.status, TrialStatus::kFinished);
      EXPECT_EQ(t.metrics.at("param_count"), t.params.at("width_multiplier").get<double>() * 1e6);
      continue;
    }
    ++infeasible;
    EXPECT_GT(t.params.at("width_multiplier").get<double>(), 1.2);
    EXPECT_EQ(t.epochs_completed, 0);
    EXPECT_EQ(t.error.rfind("infeasible before training: param_count is ", 0), 0u) << t.error;
    EXPECT_NE(t.error.find("beyond param_count <= 1.2e+06"), std::string::npos) << t.error;
    EXPECT_GT(t.metrics.at(kViolationMetric), 0);
    EXPECT_GT(t.metrics.at("param_count"), 1.2e6);
  }
  EXPECT_GT(infeasible, 0) << "the space's upper part breaks the bound";
  EXPECT_EQ(trials.size(), 12u + static_cast<size_t>(infeasible));
}

// A bound on a trained metric is judged after training: the trial trained, kept its metrics, is
// stored infeasible with its reason, and it counts against the budget.
TEST_F(ConstrainedSweepTest, BoundsOnTrainedMetricsMakeTrainedTrialsInfeasible) {
  CostedRunner runner;
  const auto trials = run_constrained({{"val_macro_f1", {{"min", 0.35}}}}, runner);
  ASSERT_EQ(trials.size(), 12u);
  EXPECT_EQ(runner.trained_widths.size(), 12u);
  int infeasible = 0;
  for (const auto& t : trials) {
    const double f1 = t.metrics.at("val_macro_f1");
    EXPECT_EQ(t.epochs_completed, 2);
    if (f1 >= 0.35) {
      EXPECT_EQ(t.status, TrialStatus::kFinished);
      continue;
    }
    ++infeasible;
    EXPECT_EQ(t.status, TrialStatus::kInfeasible);
    EXPECT_EQ(t.error.rfind("infeasible after training: val_macro_f1 is ", 0), 0u) << t.error;
    EXPECT_NEAR(t.metrics.at(kViolationMetric), (0.35 - f1) / 0.35, 1e-12);
  }
  EXPECT_GT(infeasible, 0);
  // The leaderboard and the Pareto view rank feasible trials only.
  const auto ranked =
      results::Reader(path_).rank(trials.front().sweep_id, "val_macro_f1", true, 50);
  EXPECT_EQ(ranked.size(), trials.size() - static_cast<size_t>(infeasible));
}

// Resumed, the sweep counts the stored refusals outside the budget again: it trains exactly the
// configs still owed.
TEST_F(ConstrainedSweepTest, AResumedSweepKeepsRefusalsOutsideTheBudget) {
  CostedRunner first;
  auto trials = run_constrained({{"param_count", {{"max", 1.2e6}}}}, first);
  const size_t stored = trials.size();
  nlohmann::json doc;
  {
    results::Store store(path_);
    const auto sweep = store.latest_sweep_named("sweep");
    ASSERT_TRUE(sweep.has_value());
    doc = sweep->spec;
    doc["budget"]["trials"] = 15;
    CostedRunner more;
    SweepDriver driver(search::parse_spec(doc), store, nullptr, *sweep, true);
    run_in_process(driver, more);
    driver.finish(SweepStatus::kFinished);
    EXPECT_EQ(more.trained_widths.size(), 3u);
  }
  trials = results::Reader(path_).trials(trials.front().sweep_id);
  EXPECT_GE(trials.size(), stored + 3);
  EXPECT_EQ(std::count_if(trials.begin(), trials.end(),
                          [](const auto& t) { return t.status == TrialStatus::kFinished; }),
            15);
}

}  // namespace
}  // namespace fersweep::coordinator
