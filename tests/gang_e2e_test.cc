// Data-parallel gangs end to end: the real `fersweep` under real `mpiexec`, coordinator plus
// gangs of two ranks on the MPI backend, checked against one process training the same trials.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "results/queries.h"
#include "tests/e2e_support.h"
#include "worker/checkpoint.h"

namespace fersweep {
namespace {

namespace fs = std::filesystem;
using e2e::Outcome;
using e2e::run;
using Json = nlohmann::json;

const std::string kBin = FERSWEEP_BIN;
const std::string kMpiexec = std::string(MPIEXEC) + " --oversubscribe";
constexpr int kValSize = 51;  // odd: a gang of two scores 26 and 25 images

// Two trials without dropout or batch-norm (those differ by design, docs/PARALLEL.md), 83
// training images in batches of 8: the last batch of each epoch splits 2 + 1. The second trial
// weights the loss by class, smooths labels, clips gradients and rotates images.
Json equivalence_spec(int gpus_per_trial) {
  Json spec = Json::parse(R"({
    "name": "gang", "method": "grid", "seed": 5, "epochs": 2,
    "metric": {"name": "val_loss", "goal": "minimize"},
    "data": {"train_size": 83, "val_size": 51, "image_size": 24, "seed": 2},
    "resources": {"threads_per_worker": 1},
    "parameters": {
      "filters": {"value": [4, 8]}, "convs_per_block": {"value": 1},
      "batch_norm": {"value": false}, "dense": {"value": [16]}, "dropout": {"value": 0},
      "optimizer": {"value": "sgd"}, "momentum": {"value": 0.9}, "lr": {"value": 0.05},
      "batch_size": {"value": 8}, "rotation": {"value": 10},
      "label_smoothing": {"value": 0.1}, "grad_clip": {"value": 0.5},
      "class_balance": {"values": ["none", "weighted_loss"]}
    }
  })");
  spec["resources"]["gpus_per_trial"] = gpus_per_trial;
  return spec;
}

class GangE2E : public testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(e2e::mpi_test_dir("gang")); }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }

  static std::string path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string write_spec(const std::string& name, const Json& spec) {
    std::ofstream(path(name)) << spec.dump(2);
    return path(name);
  }
  static int64_t confusion_total(const results::Reader& reader, int64_t trial) {
    const auto cells = reader.trial(trial).confusion;
    return std::accumulate(cells.begin(), cells.end(), int64_t{0});
  }
  static std::string* dir_;
};
std::string* GangE2E::dir_ = nullptr;

// The bar of data parallelism: k steps with global batch B on a gang of two give the parameters
// one process gets from the same B samples, and the metrics it reports.
TEST_F(GangE2E, GangOfTwoTrainsLikeOneProcess) {
  const Outcome alone = run(kBin + " run " + write_spec("one.json", equivalence_spec(1)) +
                            " --quiet --db " + path("one.db") + " --checkpoints " + path("one"));
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  const Outcome gang =
      run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("gang.json", equivalence_spec(2)) +
          " --quiet --db " + path("gang.db") + " --checkpoints " + path("gang"));
  ASSERT_EQ(gang.exit_code, 0) << gang.output;

  const results::Reader one_db(path("one.db")), gang_db(path("gang.db"));
  const auto one = one_db.trials(one_db.sweep(std::nullopt).id);
  const auto two = gang_db.trials(gang_db.sweep(std::nullopt).id);
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(one[i].params.dump());
    ASSERT_EQ(one[i].status, TrialStatus::kFinished) << one[i].error;
    ASSERT_EQ(two[i].status, TrialStatus::kFinished) << two[i].error;
    EXPECT_EQ(two[i].worker_rank, 1);  // the gang's leader reports
    EXPECT_EQ(confusion_total(gang_db, two[i].id), kValSize);
    for (const char* metric : {"train_loss", "val_loss"}) {
      EXPECT_NEAR(two[i].metrics.at(metric), one[i].metrics.at(metric), 1e-5) << metric;
    }
    // Float sums in another order may flip a near-tie: at most one image scored differently.
    EXPECT_NEAR(two[i].metrics.at("val_accuracy"), one[i].metrics.at("val_accuracy"),
                1.0 / kValSize + 1e-12);

    const worker::LoadedCheckpoint a = worker::load_checkpoint(one[i].checkpoint);
    const worker::LoadedCheckpoint b = worker::load_checkpoint(two[i].checkpoint);
    ASSERT_EQ(a.description.at("epoch"), b.description.at("epoch"));
    const auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
    ASSERT_EQ(pa.size(), pb.size());
    double largest = 0, moved = 0;
    for (const auto& item : pa) {
      largest = std::max(largest, (item.value() - pb[item.key()]).abs().max().item<double>());
      moved += item.value().abs().sum().item<double>();
    }
    EXPECT_LE(largest, 1e-5);
    EXPECT_GT(moved, 0.0);
    std::printf("trial %zu: largest parameter difference %.3g\n", i, largest);
  }
}

// ASHA stops gangs at rung ends; every rank of a gang leaves the trial together and the gang
// takes the next one. Batch-norm is on in half the configs (local statistics per rank).
TEST_F(GangE2E, EarlyStoppedGangsAllMoveOnToTheNextTrial) {
  Json spec = equivalence_spec(2);
  spec["method"] = "random";
  spec["epochs"] = 3;
  spec["budget"] = {{"trials", 6}};
  spec["early_stopping"] = {{"type", "asha"}, {"min_epochs", 1}, {"eta", 3}};
  spec["parameters"]["lr"] = {{"distribution", "log_uniform"}, {"min", 1e-4}, {"max", 0.3}};
  spec["parameters"]["batch_norm"] = {{"values", {true, false}}};
  const Outcome out = run(kMpiexec + " -n 5 " + kBin + " run " + write_spec("asha.json", spec) +
                          " --quiet --checkpoints none --db " + path("asha.db"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(path("asha.db"));
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 6u);
  int pruned = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(t.status == TrialStatus::kFinished || t.status == TrialStatus::kPruned)
        << t.status << " " << t.error;
    pruned += t.status == TrialStatus::kPruned;
    ASSERT_TRUE(t.worker_rank.has_value());
    EXPECT_TRUE(*t.worker_rank == 1 || *t.worker_rank == 3) << *t.worker_rank;  // gang leaders
    EXPECT_EQ(static_cast<int>(reader.trial(t.id).epochs.size()), t.epochs_completed);
    EXPECT_EQ(confusion_total(reader, t.id), kValSize);
  }
  EXPECT_GE(pruned, 1);
}

// One rank fails mid-epoch where the other does not: a dense batch-norm layer cannot train on
// the single image that rank 1 gets of the 3-image last batch (83 = 5 x 16 + 3). The whole gang
// leaves the trial on that step, records why, and trains the next trial.
TEST_F(GangE2E, OneRankFailingMidEpochFailsTheTrialAndTheGangGoesOn) {
  Json spec = equivalence_spec(2);
  spec["parameters"]["dense_batch_norm"] = {{"value", true}};
  spec["parameters"]["class_balance"] = {{"value", "none"}};
  spec["parameters"]["batch_size"] = {{"values", {16, 83}}};
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("bn.json", spec) +
                          " --quiet --checkpoints none --db " + path("bn.db"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(path("bn.db"));
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].params.at("batch_size"), 16);
  EXPECT_EQ(trials[0].status, TrialStatus::kFailed);
  EXPECT_NE(trials[0].error.find("gang rank 1: "), std::string::npos) << trials[0].error;
  EXPECT_NE(trials[0].error.find("Expected more than 1 value per channel"), std::string::npos)
      << trials[0].error;
  EXPECT_EQ(trials[0].epochs_completed, 0);
  EXPECT_EQ(trials[1].status, TrialStatus::kFinished) << trials[1].error;
  EXPECT_EQ(confusion_total(reader, trials[1].id), kValSize);
}

// The leader keeps the clock for its gang: a trial past its time limit fails on every rank at
// the same epoch, and a fault thrown in a trial fails it on every rank; two gangs finish the rest.
TEST_F(GangE2E, TimeLimitsAndFaultsFailGangTrialsOnEveryRank) {
  Json spec = Json::parse(R"({
    "name": "gang faults", "method": "random", "seed": 4, "epochs": 3,
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "budget": {"trials": 6},
    "benchmark": {"function": "learning_curve", "faults": {"1": "sleep", "2": "throw"}},
    "failures": {"trial_time_limit": 0.5},
    "resources": {"gpus_per_trial": 2},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1},
                   "dropout": {"distribution": "uniform", "min": 0, "max": 0.5},
                   "batch_size": {"values": [32, 64]}}
  })");
  const Outcome out = run(kMpiexec + " -n 5 " + kBin + " run " + write_spec("faults.json", spec) +
                          " --quiet --db " + path("faults.db"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(path("faults.db"));
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 6u);
  for (const auto& t : trials) {
    SCOPED_TRACE(t.number);
    if (t.number == 1) {
      EXPECT_EQ(t.status, TrialStatus::kFailed);
      EXPECT_NE(t.error.find("trial time limit"), std::string::npos) << t.error;
      EXPECT_EQ(t.epochs_completed, 3);
    } else if (t.number == 2) {
      EXPECT_EQ(t.status, TrialStatus::kFailed);
      EXPECT_NE(t.error.find("injected fault in trial #2"), std::string::npos) << t.error;
    } else {
      EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
    }
  }
}

// A trial past its time limit stops mid-epoch, at the next step, on every rank of its gang: an
// epoch of 4,000 images takes several times longer than the limit, so no epoch is ever completed.
// The gang then takes the next trial (which fails the same way) and the sweep ends, with no
// finished trial: exit 1 and a line saying so, for a batch script to notice.
TEST_F(GangE2E, TimeLimitStopsAGangMidEpoch) {
  Json spec = equivalence_spec(2);
  spec["data"]["train_size"] = 4000;
  spec["failures"] = {{"trial_time_limit", 0.2}};
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("slow.json", spec) +
                          " --quiet --checkpoints none --db " + path("slow.db"));
  ASSERT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("fersweep: sweep 1 \"gang\" ended with no finished trial (2 failed)"),
            std::string::npos)
      << out.output;
  const results::Reader reader(path("slow.db"));
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kFailed);
    EXPECT_NE(t.error.find("trial time limit"), std::string::npos) << t.error;
    EXPECT_NE(t.error.find("at epoch 1,"), std::string::npos) << t.error;
    EXPECT_EQ(t.epochs_completed, 0);
    EXPECT_TRUE(reader.trial(t.id).epochs.empty());
  }
}

// ASHA's report deadline through the MPI conversation and a gang: the small VGG reports first and
// holds the first rung it was judged at (r, at most its first epoch's time); the ResNet-18 after
// it, whose epoch takes many times longer, must report before 2r. The leader's clock cuts it
// mid-epoch on both ranks, and it ends pruned without an epoch, not failed.
TEST_F(GangE2E, AReportDeadlineStopsASilentGangTrialMidEpoch) {
  Json spec = equivalence_spec(2);
  spec["name"] = "deadline";
  spec["parameters"].erase("class_balance");
  spec["parameters"]["arch"] = {{"values", {"vgg_custom", "resnet18"}}};
  // Every batch whole, and maps of 2 x 2 at ResNet-18's end: batch-norm needs more than one value
  // per channel on each rank's half of the batch.
  spec["data"]["train_size"] = 96;
  spec["data"]["image_size"] = 48;
  spec["parameters"]["batch_size"] = {{"value", 16}};
  spec["early_stopping"] = {{"type", "asha"},
                            {"resource", "seconds"},
                            {"min_seconds", 0.001},
                            {"eta", 2},
                            {"report_deadline", true}};
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("deadline.json", spec) +
                          " --quiet --db " + path("deadline.db"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(path("deadline.db"));
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].params.at("arch"), "vgg_custom");
  EXPECT_EQ(trials[0].status, TrialStatus::kFinished) << trials[0].error;
  EXPECT_EQ(trials[1].params.at("arch"), "resnet18");
  EXPECT_EQ(trials[1].status, TrialStatus::kPruned) << trials[1].error;
  EXPECT_EQ(trials[1].epochs_completed, 0);
  EXPECT_NE(trials[1].error.find("epoch 1 ran"), std::string::npos) << trials[1].error;
  EXPECT_NE(trials[1].error.find("report_deadline"), std::string::npos) << trials[1].error;
  EXPECT_TRUE(reader.trial(trials[1].id).epochs.empty());
}

// A gang's trial paused by a stop signal continues on --resume from its last epoch, each rank with
// its own dropout stream restored, and trains exactly what the uninterrupted gang trained.
TEST_F(GangE2E, APausedGangTrialContinuesBitForBit) {
  // Dropout where it changes the training (a hidden layer that has not died): each rank's own
  // stream must come back, not the leader's.
  Json spec = Json::parse(R"({
    "name": "gang_state", "method": "grid", "seed": 5, "epochs": 4,
    "metric": {"name": "val_loss", "goal": "minimize"},
    "data": {"train_size": 480, "val_size": 51, "seed": 4},
    "resources": {"threads_per_worker": 1, "gpus_per_trial": 2},
    "parameters": {
      "filters": {"value": [8, 16]}, "convs_per_block": {"value": 1}, "dense": {"value": [32]},
      "dropout": {"value": 0.3}, "batch_size": {"value": 32}, "lr": {"value": 0.003},
      "schedule": {"value": "cosine"}, "warmup_epochs": {"value": 1},
      "class_balance": {"values": ["none", "balanced_sampling"]}
    }
  })");
  const std::string file = write_spec("gang_state.json", spec);
  // Best models beside each database; `--checkpoints none` would keep no training state either.
  const std::string base = kMpiexec + " -n 3 " + kBin + " run " + file;
  const Outcome whole = run(base + " --quiet --db " + path("gang_whole.db"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  const std::string db = path("gang_paused.db"), log = path("gang_paused.log");
  const std::vector<std::string> argv = {
      std::string(MPIEXEC), "--oversubscribe", "-n", "3", kBin, "run", file, "--db", db};
  const pid_t mpiexec = e2e::spawn(argv, log);
  // Once the first trial has stored an epoch, the stop: it pauses at the end of the next one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (results::Reader(db).trials(1).size() > 0 && !results::Reader(db).trial(1).epochs.empty())
        break;
    } catch (const std::exception&) {  // not written yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const pid_t pid : e2e::processes_mentioning(file)) kill(pid, SIGTERM);
  int status = 0;
  waitpid(mpiexec, &status, 0);
  ASSERT_NE(e2e::file_bytes(log).find("stopped by signal 15"), std::string::npos)
      << e2e::file_bytes(log);
  const Outcome resumed = run(base + " --resume --db " + db);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("continues after epoch"), std::string::npos) << resumed.output;

  const results::Reader a(path("gang_whole.db")), b(db);
  const auto ta = a.trials(a.sweep(std::nullopt).id), tb = b.trials(b.sweep(std::nullopt).id);
  ASSERT_EQ(ta.size(), 2u);
  ASSERT_EQ(tb.size(), 2u) << "the paused trial continued as itself";
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(tb[i].status, TrialStatus::kFinished) << tb[i].error;
    const auto ea = a.trial(ta[i].id).epochs, eb = b.trial(tb[i].id).epochs;
    ASSERT_EQ(ea.size(), eb.size());
    for (size_t e = 0; e < ea.size(); ++e) EXPECT_EQ(ea[e].values, eb[e].values) << i << " " << e;
  }
}

TEST_F(GangE2E, RanksThatDoNotFormWholeGangsAreRefused) {
  const std::string spec = write_spec("uneven.json", equivalence_spec(2));
  const Outcome out =
      run(kMpiexec + " -n 4 " + kBin + " run " + spec + " --db " + path("uneven.db"));
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find(spec + ": resources.gpus_per_trial is 2, but mpirun started 3 "
                                   "training rank(s)"),
            std::string::npos)
      << out.output;
  EXPECT_FALSE(fs::exists(path("uneven.db")));
}

}  // namespace
}  // namespace fersweep
