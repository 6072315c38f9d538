// End to end through the real `fersweep` binary: real mpiexec, real LibTorch training, then the
// database read back through the results library.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/sources.h"
#include "deploy/onnx_runtime.h"
#include "results/queries.h"
#include "tests/e2e_support.h"
#include "tests/hostile_store.h"
#include "tests/onnx_runtimes.h"

namespace fersweep {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using e2e::file_bytes;
using e2e::Outcome;
using e2e::run;

const std::string kBin = FERSWEEP_BIN;
const std::string kMpiexec = std::string(MPIEXEC) + " --oversubscribe";
constexpr int kValSize = 50;

// Four trials (a 2 x 2 grid), two epochs each, on tiny images: seconds, not minutes.
Json tiny_spec() {
  return Json::parse(R"({
    "name": "e2e",
    "method": "grid",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "epochs": 2,
    "seed": 5,
    "data": {"train_size": 160, "val_size": 50, "image_size": 24, "seed": 2},
    "resources": {"threads_per_worker": 1},
    "parameters": {
      "filters": {"value": [4, 8]},
      "convs_per_block": {"value": 1},
      "dense": {"value": [16]},
      "lr": {"values": [0.003, 0.001]},
      "batch_size": {"values": [16, 32]}
    }
  })");
}

class SweepE2E : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(e2e::mpi_test_dir("e2e"));
    std::ofstream(spec_path()) << tiny_spec().dump(2);
    mpi_run_ =
        new Outcome(run(kMpiexec + " -n 3 " + kBin + " run " + spec_path() + " --db " + mpi_db()));
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }

  static std::string path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string spec_path() { return path("tiny.json"); }
  static std::string mpi_db() { return path("mpi.db"); }
  static std::string write_spec(const std::string& name, const Json& spec) {
    std::ofstream(path(name)) << spec.dump(2);
    return path(name);
  }

  static std::string* dir_;
  static Outcome* mpi_run_;
};
std::string* SweepE2E::dir_ = nullptr;
Outcome* SweepE2E::mpi_run_ = nullptr;

TEST_F(SweepE2E, ThreeRanksFinishTheFourTrialSweep) {
  ASSERT_EQ(mpi_run_->exit_code, 0) << mpi_run_->output;
  const results::Reader reader(mpi_db());
  const results::SweepSummary sweep = reader.sweep(std::nullopt);
  EXPECT_EQ(sweep.status, SweepStatus::kFinished);
  EXPECT_EQ(sweep.planned_trials, 4);
  const auto trials = reader.trials(sweep.id);
  ASSERT_EQ(trials.size(), 4u);
  std::set<std::string> configs;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
    ASSERT_TRUE(t.worker_rank.has_value());
    EXPECT_TRUE(*t.worker_rank == 1 || *t.worker_rank == 2) << *t.worker_rank;
    configs.insert(t.params.dump());
    const results::TrialDetail d = reader.trial(t.id);
    EXPECT_EQ(d.epochs.size(), 2u);
    ASSERT_EQ(d.confusion.size(), 49u);
    EXPECT_EQ(std::accumulate(d.confusion.begin(), d.confusion.end(), int64_t{0}), kValSize);
    ASSERT_EQ(d.per_class.size(), 7u);
    EXPECT_EQ(d.per_class[1].name, "Disgust");
    // The best model is kept beside the database by default.
    EXPECT_EQ(t.checkpoint, path(fmt::format("mpi_checkpoints/trial_{:06d}.json", t.id)));
    ASSERT_TRUE(fs::exists(t.checkpoint)) << t.checkpoint;
    const auto description = nlohmann::json::parse(e2e::file_bytes(t.checkpoint));
    EXPECT_TRUE(fs::exists(path("mpi_checkpoints/" + description.at("weights").get<std::string>())))
        << description;
  }
  EXPECT_EQ(configs.size(), 4u);  // every grid point exactly once
  EXPECT_NE(mpi_run_->output.find("best: trial"), std::string::npos) << mpi_run_->output;
}

TEST_F(SweepE2E, ResultsCliRanksAndShowsAsJson) {
  ASSERT_EQ(mpi_run_->exit_code, 0) << mpi_run_->output;
  const Outcome rank = run(kBin + " results --db " + mpi_db() + " rank --json");
  ASSERT_EQ(rank.exit_code, 0) << rank.output;
  const Json ranked = Json::parse(rank.output);
  ASSERT_EQ(ranked["trials"].size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_GE(ranked["trials"][i - 1]["value"].get<double>(),
              ranked["trials"][i]["value"].get<double>());
  }
  const int64_t best = ranked["trials"][0]["trial"];
  const Outcome show =
      run(kBin + " results --db " + mpi_db() + " show " + std::to_string(best) + " --json");
  ASSERT_EQ(show.exit_code, 0) << show.output;
  const Json trial = Json::parse(show.output);
  int64_t total = 0, diagonal = 0;
  for (size_t a = 0; a < 7; ++a) {
    for (size_t p = 0; p < 7; ++p) total += trial["confusion_matrix"][a][p].get<int64_t>();
    diagonal += trial["confusion_matrix"][a][a].get<int64_t>();
  }
  EXPECT_EQ(total, kValSize);
  EXPECT_DOUBLE_EQ(trial["metrics"]["val_accuracy"].get<double>(), double(diagonal) / kValSize);
  const Outcome table = run(kBin + " results --db " + mpi_db() + " show " + std::to_string(best));
  EXPECT_NE(table.output.find("confusion matrix (rows: actual, columns: predicted)"),
            std::string::npos);
  EXPECT_NE(table.output.find("precision"), std::string::npos);
}

TEST_F(SweepE2E, SingleProcessRunsInProcessAndRepeatsExactly) {
  Json spec = tiny_spec();
  spec["budget"] = {{"trials", 2}};
  const std::string file = write_spec("two.json", spec);
  const Outcome first =
      run(kBin + " run " + file + " --db " + path("a.db") + " --quiet --checkpoints none");
  const Outcome second = run(kBin + " run " + file + " --db " + path("b.db") + " --quiet " +
                             "--checkpoints " + path("kept"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const results::Reader a(path("a.db")), b(path("b.db"));
  const auto ta = a.trials(a.sweep(std::nullopt).id), tb = b.trials(b.sweep(std::nullopt).id);
  ASSERT_EQ(ta.size(), 2u);
  ASSERT_EQ(tb.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(ta[i].status, TrialStatus::kFinished) << ta[i].error;
    EXPECT_EQ(ta[i].worker_rank, 0);
    EXPECT_EQ(ta[i].params, tb[i].params);
    EXPECT_EQ(ta[i].metrics, tb[i].metrics);  // same spec and seed: same metrics on CPU
    EXPECT_EQ(a.trial(ta[i].id).confusion, b.trial(tb[i].id).confusion);
    EXPECT_EQ(ta[i].checkpoint, "");
    EXPECT_EQ(tb[i].checkpoint, path(fmt::format("kept/trial_{:06d}.json", tb[i].id)));
  }
  EXPECT_FALSE(fs::exists(path("a_checkpoints")));
}

// --coordinator-trains: on two ranks, rank 0 coordinates and trains on a thread of its own, so a
// machine with two GPUs and two ranks leaves none idle. Gangs are refused: rank 0 cannot join one.
TEST_F(SweepE2E, CoordinatorTrainsBesideCoordinating) {
  const std::string db = path("coordinator_trains.db");
  const Outcome out = run(kMpiexec + " -n 2 " + kBin + " run " + spec_path() + " --db " + db +
                          " --checkpoints none --coordinator-trains");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("2 training rank(s)"), std::string::npos) << out.output;
  const results::Reader reader(db);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 4u);
  std::set<int> ranks;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
    ranks.insert(t.worker_rank.value_or(-1));
    EXPECT_EQ(reader.trial(t.id).epochs.size(), 2u);
  }
  EXPECT_EQ(ranks, (std::set<int>{0, 1}));

  Json gang = tiny_spec();
  gang["resources"]["gpus_per_trial"] = 2;
  const Outcome refused = run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("gang.json", gang) +
                              " --db " + path("refused.db") + " --coordinator-trains");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--coordinator-trains trains whole trials on rank 0"),
            std::string::npos)
      << refused.output;
}

TEST_F(SweepE2E, BadSpecUnderMpiexecExitsTwoAndLeavesTheDatabaseUntouched) {
  ASSERT_EQ(mpi_run_->exit_code, 0) << mpi_run_->output;
  Json spec = tiny_spec();
  spec["parameters"]["dropout"] = {{"distribution", "uniform"}, {"min", 0.2}, {"max", 1.5}};
  const std::string file = write_spec("bad.json", spec);
  const std::string before = file_bytes(mpi_db());
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + file + " --db " + mpi_db());
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("fersweep: " + file + ": parameters.dropout.max: must be in [0, 1)"),
            std::string::npos)
      << out.output;
  EXPECT_EQ(file_bytes(mpi_db()), before);
}

TEST_F(SweepE2E, CorruptDatabaseIsRefusedWithExitTwo) {
  const std::string db = path("corrupt.db");
  std::ofstream(db) << "this is not a database";
  const Outcome out = run(kBin + " run " + spec_path() + " --db " + db);
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find(db + ": not a SQLite database"), std::string::npos) << out.output;
  const Outcome upgrade = run(kBin + " results --db " + db + " upgrade");
  EXPECT_EQ(upgrade.exit_code, 2) << upgrade.output;
  EXPECT_NE(upgrade.output.find(db + ": not a SQLite database"), std::string::npos)
      << upgrade.output;
  EXPECT_EQ(file_bytes(db), "this is not a database");
}

TEST_F(SweepE2E, HelpWorksForEveryCommand) {
  for (const std::string args :
       {"--help", "run --help", "results --help", "results rank --help", "models --help"}) {
    const Outcome out = run(kBin + " " + args);
    EXPECT_EQ(out.exit_code, 0) << args;
    EXPECT_NE(out.output.find("usage: "), std::string::npos) << args;
  }
}

// Promotion-based ASHA under four ranks: trials pause at rungs 3 and 9 and leave their workers;
// idle workers wait while running trials may still earn a paused one its promotion, and the
// sweep ends with every trial finished or pruned where it paused, its rungs in the database.
TEST_F(SweepE2E, PromotionAshaAcrossThreeWorkers) {
  const std::string db = path("promotion.db");
  // Promotion continues paused trials from their state: keeping none is refused up front.
  const Outcome refused = run(kBin + " run " + FERSWEEP_SOURCE_DIR +
                              "/search_spaces/examples/learning_curve_asha_promotion.json --db " +
                              db + " --checkpoints none");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--checkpoints none: "), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("promotion"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(db));
  const Outcome out = run(kMpiexec + " -n 4 " + kBin + " run " + FERSWEEP_SOURCE_DIR +
                          "/search_spaces/examples/learning_curve_asha_promotion.json --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(db);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 60u);
  std::map<int, std::vector<std::pair<double, RungOutcome>>> rungs;  // by epoch
  int finished = 0;
  for (const auto& t : trials) {
    const auto detail = reader.trial(t.id);
    EXPECT_EQ(static_cast<int>(detail.epochs.size()), t.epochs_completed);
    for (const auto& r : detail.rungs) rungs[r.epoch].push_back({r.value, r.outcome});
    // Paused at each rung it reached, promoted from all but the last.
    EXPECT_EQ(static_cast<int>(detail.rungs.size()), t.runs - (t.epochs_completed == 27 ? 1 : 0))
        << "trial " << t.id;
    if (t.status == TrialStatus::kFinished) {
      ++finished;
      EXPECT_EQ(t.epochs_completed, 27);
    } else {
      EXPECT_EQ(t.status, TrialStatus::kPruned) << t.error;
      EXPECT_TRUE(t.epochs_completed == 3 || t.epochs_completed == 9) << t.epochs_completed;
      EXPECT_EQ(detail.rungs.back().outcome, RungOutcome::kStopped);
    }
    EXPECT_EQ(t.state_path, "");
  }
  EXPECT_GE(finished, 1);
  for (auto& [epoch, arrivals] : rungs) {  // the top floor(n / 3) of every rung went up
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < arrivals.size() / 3; ++i) {
      EXPECT_EQ(arrivals[i].second, RungOutcome::kPromoted) << "epoch " << epoch << " #" << i;
    }
  }
  EXPECT_TRUE(fs::is_empty(path("promotion_state")));
}

// Population Based Training under four ranks: the members spread over the workers, pause every
// two epochs, and continue on whichever worker is free, from their own state or a copy of a top
// member's; lineage and schedules land in the database and in `results show`.
TEST_F(SweepE2E, PbtPopulationAcrossThreeWorkers) {
  const std::string db = path("pbt.db"), spec = std::string(FERSWEEP_SOURCE_DIR) +
                                                "/search_spaces/examples/lr_schedule_pbt.json";
  const Outcome refused = run(kBin + " run " + spec + " --db " + db + " --checkpoints none");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("method \"pbt\""), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(db));
  const Outcome out = run(kMpiexec + " -n 4 " + kBin + " run " + spec + " --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(db);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 8u);
  std::set<int> ranks;
  int exploits = 0;
  int64_t exploited = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
    EXPECT_EQ(t.epochs_completed, 16);
    EXPECT_EQ(t.runs, 8) << "paused after epochs 2, 4, ..., 14";
    EXPECT_EQ(t.state_path, "");
    ranks.insert(t.worker_rank.value_or(-1));
    const auto detail = reader.trial(t.id);
    EXPECT_EQ(detail.epochs.size(), 16u);
    for (const auto& r : detail.schedule) {
      if (!r.parent) continue;
      ++exploits;
      exploited = t.id;
      EXPECT_EQ(r.epoch % 2, 0);
    }
  }
  EXPECT_EQ(exploits, 7 * 2) << "two of eight members at each of seven generations";
  EXPECT_GE(ranks.size(), 2u);
  const Outcome shown = run(kBin + " results --db " + db + " show " + std::to_string(exploited));
  EXPECT_NE(shown.output.find("state;"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("loaded trial"), std::string::npos) << shown.output;
  EXPECT_TRUE(fs::is_empty(path("pbt_state")));
}

// The shipped benchmark example under four ranks: TPE asks asynchronously while ASHA stops trials
// at their rungs; every trial lands in the database with the epochs it really ran.
TEST_F(SweepE2E, TpeWithAshaOnABenchmarkAcrossThreeWorkers) {
  const std::string db = path("asha.db");
  const Outcome out = run(kMpiexec + " -n 4 " + kBin + " run " + FERSWEEP_SOURCE_DIR +
                          "/search_spaces/examples/learning_curve_tpe_asha.json --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("(tpe, early stopping asha)"), std::string::npos) << out.output;
  const results::Reader reader(db);
  const results::SweepSummary sweep = reader.sweep(std::nullopt);
  EXPECT_EQ(sweep.method, "tpe");
  const auto trials = reader.trials(sweep.id);
  ASSERT_EQ(trials.size(), 60u);
  std::set<int> ranks;
  int pruned = 0;
  for (const auto& t : trials) {
    ranks.insert(t.worker_rank.value_or(-1));
    const auto detail = reader.trial(t.id);
    EXPECT_EQ(static_cast<int>(detail.epochs.size()), t.epochs_completed);
    if (t.status == TrialStatus::kPruned) {
      ++pruned;
      EXPECT_TRUE(t.epochs_completed == 1 || t.epochs_completed == 3 || t.epochs_completed == 9)
          << t.epochs_completed;
    } else {
      EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
      EXPECT_EQ(t.epochs_completed, 27);
    }
  }
  EXPECT_EQ(ranks, (std::set<int>{1, 2, 3}));
  EXPECT_GT(pruned, 30);
  EXPECT_LT(pruned, 60);
  // The per-epoch table shows the benchmark's own metrics.
  const Outcome show = run(kBin + " results --db " + db + " show " + std::to_string(trials[0].id));
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("val_accuracy"), std::string::npos) << show.output;
}

// Two objectives under mpiexec: NSGA-II across three workers, the run's closing front, and the
// results CLI's Pareto view and per-objective ranking.
TEST_F(SweepE2E, AParetoSearchAcrossThreeWorkers) {
  const std::string db = path("pareto.db");
  const Outcome out = run(kMpiexec + " -n 4 " + kBin + " run " + FERSWEEP_SOURCE_DIR +
                          "/search_spaces/examples/zdt1_nsga2.json --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("minimize f1, minimize f2"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("are non-dominated; hypervolume"), std::string::npos) << out.output;
  const Outcome pareto = run(kBin + " results --db " + db + " pareto --json");
  ASSERT_EQ(pareto.exit_code, 0) << pareto.output;
  const Json front = Json::parse(pareto.output);
  EXPECT_EQ(front["considered"], 200);
  ASSERT_GE(front["front"].size(), 3u);
  for (size_t i = 1; i < front["front"].size(); ++i) {  // along the front f1 rises, f2 falls
    EXPECT_GT(front["front"][i]["values"]["f1"], front["front"][i - 1]["values"]["f1"]);
    EXPECT_LT(front["front"][i]["values"]["f2"], front["front"][i - 1]["values"]["f2"]);
  }
  const Outcome ranked = run(kBin + " results --db " + db + " rank --metric f2 --top 200 --json");
  ASSERT_EQ(ranked.exit_code, 0) << ranked.output;
  const Json rows = Json::parse(ranked.output)["trials"];
  EXPECT_EQ(rows.front()["value"], front["front"].back()["values"]["f2"])
      << "f2 is minimised: the least first";
  const Outcome bad = run(kBin + " results --db " + db + " pareto --metrics f1:max");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--metrics: a Pareto front needs at least two objectives"),
            std::string::npos)
      << bad.output;
}

// The seed report's question on tiny networks: accuracy against latency under a size bound. The
// wide half of the grid breaks the bound: it is refused before training, with its costs, outside
// the budget; the narrow half trains, its costs measured on the worker beside its metrics.
TEST_F(SweepE2E, ACostConstrainedParetoSweepNeverTrainsWhatIsTooBig) {
  Json spec = tiny_spec();
  spec["name"] = "constrained";
  spec["metric"] = Json::array({{{"name", "val_accuracy"}, {"goal", "maximize"}},
                                {{"name", "inference_ms"}, {"goal", "minimize"}}});
  spec["constraints"] = {{"param_count", {{"max", 60000}}}, {"train_memory_mb", {{"max", 4096}}}};
  spec["costs"] = {{"inference_batch", 8}, {"latency_repeats", 3}};
  spec["parameters"]["filters"] = {{"values", Json::array({{4, 8}, {32, 64}})}};
  spec["parameters"]["dense"] = {{"value", {64}}};
  spec["parameters"]["batch_size"] = {{"value", 16}};
  const std::string spec_file = path("constrained.json"), db = path("constrained.db");
  std::ofstream(spec_file) << spec.dump(2);
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + spec_file + " --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("infeasible before training: param_count is"), std::string::npos)
      << out.output;
  const Outcome listed = run(kBin + " results --db " + db + " list --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const Json trials = Json::parse(listed.output)["trials"];
  ASSERT_EQ(trials.size(), 4u) << "2 x 2 grid points, each config once";
  for (const Json& t : trials) {
    const bool wide = t["params"]["filters"] == Json({32, 64});
    const Json& m = t["metrics"];
    EXPECT_EQ(t["status"], wide ? "infeasible" : "finished") << t.dump();
    EXPECT_EQ(t["epochs_completed"], wide ? 0 : 2) << t.dump();
    EXPECT_EQ(m["param_count"].get<double>() > 60000, wide) << t.dump();
    EXPECT_GT(m["flops"].get<double>(), 0) << t.dump();
    EXPECT_GT(m["train_memory_mb"].get<double>(), 0) << t.dump();
    EXPECT_GT(m["inference_ms"].get<double>(), 0) << t.dump();
    EXPECT_GT(m["batch_inference_ms"].get<double>(), 0) << t.dump();
    EXPECT_EQ(m.contains("val_accuracy"), !wide) << t.dump();
    if (wide) {
      EXPECT_NE(t["error"].get<std::string>().find("param_count <= 60000"), std::string::npos);
    }
  }
  const Outcome pareto = run(kBin + " results --db " + db + " pareto --json");
  ASSERT_EQ(pareto.exit_code, 0) << pareto.output;
  EXPECT_EQ(Json::parse(pareto.output)["considered"], 2) << "the feasible trials only";
}

// The query commands on the real sweep's database: filters, comparison, summary and export.
TEST_F(SweepE2E, ResultsCliListsComparesSummarisesAndExports) {
  ASSERT_EQ(mpi_run_->exit_code, 0) << mpi_run_->output;
  const std::string db = " results --db " + mpi_db() + " ";
  const auto json_of = [](const Outcome& o) {
    EXPECT_EQ(o.exit_code, 0) << o.output;
    return Json::parse(o.output);
  };
  const Json all = json_of(run(kBin + db + "list --json"));
  ASSERT_EQ(all["trials"].size(), 4u);
  // The grid is lr {0.003, 0.001} x batch_size {16, 32}: each filter keeps exactly its half.
  const Json fast =
      json_of(run(kBin + db + "list --json --where 'lr > 0.002 and status = finished'"));
  ASSERT_EQ(fast["trials"].size(), 2u);
  for (const auto& t : fast["trials"]) EXPECT_EQ(t["params"]["lr"], 0.003);
  const Json sized = json_of(run(kBin + db + "list --json --where 'batch_size in (32, 64)'"));
  ASSERT_EQ(sized["trials"].size(), 2u);
  for (const auto& t : sized["trials"]) EXPECT_EQ(t["params"]["batch_size"], 32);
  const Json listed = json_of(run(kBin + db + "list --json --where 'filters = [4, 8]'"));
  EXPECT_EQ(listed["trials"].size(), 4u);
  // A metric threshold agrees with the metrics the trials stored.
  const double best = json_of(run(kBin + db + "rank --json"))["trials"][0]["value"];
  const Json top =
      json_of(run(kBin + db + fmt::format("list --json --where 'val_accuracy >= {}'", best)));
  ASSERT_GE(top["trials"].size(), 1u);
  for (const auto& t : top["trials"]) EXPECT_GE(t["metrics"]["val_accuracy"].get<double>(), best);

  // Injection attempts are syntax errors, exit 2, and the database is untouched.
  const std::string before = file_bytes(mpi_db());
  for (const std::string attack :
       {R"('\''; DROP TABLE trials; --)", "status = finished; DROP TABLE trials",
        "lr = 1) OR (1 = 1", "sqlite_master = x"}) {
    const Outcome o = run(kBin + db + "list --where '" + attack + "'");
    EXPECT_EQ(o.exit_code, 2) << attack << ": " << o.output;
    EXPECT_NE(o.output.find("--where"), std::string::npos) << o.output;
  }
  EXPECT_EQ(file_bytes(mpi_db()), before);
  EXPECT_EQ(json_of(run(kBin + db + "list --json"))["trials"].size(), 4u);

  const Json ids = all["trials"];
  const Json compared = json_of(run(
      kBin + db +
      fmt::format("compare {} {} --json", ids[0]["trial"].get<int>(), ids[3]["trial"].get<int>())));
  // Trials 0 and 3 of the grid differ in both swept parameters and nothing else.
  EXPECT_EQ(compared["differing_parameters"], Json({"batch_size", "lr"}));
  for (const auto& [name, change] : compared["trials"][0]["f1_change_from_first"].items()) {
    EXPECT_EQ(change.get<double>(), 0.0) << name;
  }
  const Json summary = json_of(run(kBin + db + "summary --json"));
  EXPECT_EQ(summary["trials_by_status"]["finished"], 4);
  EXPECT_EQ(summary["best"]["value"].get<double>(), best);
  EXPECT_GT(summary["rank_hours"].get<double>(), 0.0);
  // Finished trials keep their best model (a description and its weights) and no training state.
  uintmax_t kept = 0;
  for (const auto& file : fs::directory_iterator(path("mpi_checkpoints"))) {
    kept += file.file_size();
  }
  EXPECT_GT(kept, 0u);
  EXPECT_EQ(summary["disk_bytes"]["best_models"].get<uintmax_t>(), kept);
  EXPECT_EQ(summary["disk_bytes"]["training_states"].get<uintmax_t>(), 0u);

  const Outcome csv = run(kBin + db + "export --out " + path("export"));
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  std::ifstream trials_csv(path("export/trials.csv"));
  std::string header, line;
  std::getline(trials_csv, header);
  EXPECT_NE(header.find("param.lr"), std::string::npos) << header;
  EXPECT_NE(header.find("val_accuracy"), std::string::npos) << header;
  int rows = 0;
  while (std::getline(trials_csv, line)) rows += !line.empty();
  EXPECT_EQ(rows, 4);
  // 4 trials x 2 epochs x 5 metrics; 4 x 49 cells; 4 x 7 classes.
  const auto lines = [](const std::string& file) {
    std::ifstream in(file);
    int n = -1;  // the header
    for (std::string l; std::getline(in, l);) ++n;
    return n;
  };
  EXPECT_EQ(lines(path("export/epochs.csv")), 40);
  EXPECT_EQ(lines(path("export/confusion.csv")), 196);
  EXPECT_EQ(lines(path("export/per_class.csv")), 28);
  const Outcome exported = run(kBin + db + "export --format json --out " + path("export"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const Json doc = Json::parse(file_bytes(path("export/sweep.json")));
  ASSERT_EQ(doc["trials"].size(), 4u);
  EXPECT_EQ(doc["trials"][0]["confusion_matrix"].size(), 7u);
  EXPECT_EQ(run(kBin + db + "export --format xml --out " + path("export")).exit_code, 2);

  // show: the report with its averages, and a row-normalised matrix whose rows sum to 1.
  const Outcome shown =
      run(kBin + db + "show " + std::to_string(ids[0]["trial"].get<int>()) + " --normalize");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  for (const char* line : {"macro avg", "weighted avg", "accuracy", "each row as a fraction"}) {
    EXPECT_NE(shown.output.find(line), std::string::npos) << line << "\n" << shown.output;
  }
  std::istringstream text(shown.output.substr(shown.output.find("\nAngry ")));
  std::string name;
  double sum = 0, cell = 0;
  text >> name;
  for (int k = 0; k < 7 && text >> cell; ++k) sum += cell;
  EXPECT_NEAR(sum, 1.0, 0.004) << shown.output;

  // importance names the two swept parameters; plot writes SVG files.
  const Json importance = json_of(run(kBin + db + "importance --json"));
  ASSERT_EQ(importance["importance"].size(), 2u);
  std::set<std::string> named;
  for (const auto& row : importance["importance"]) named.insert(row["parameter"]);
  EXPECT_EQ(named, (std::set<std::string>{"batch_size", "lr"}));
  const Json plots = json_of(run(kBin + db + "plot --json --out " + path("plots")));
  EXPECT_GE(plots["written"].size(), 4u);
  for (const auto& file : plots["written"]) {
    const std::string svg = file_bytes(file.get<std::string>());
    EXPECT_NE(svg.find("<svg"), std::string::npos) << file;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << file;
  }
}

// The HTML report in a real browser: headless Chromium loads it from disk, logs no console
// message, shows one leaderboard row per finished trial, keeps a hostile sweep name as text,
// and takes a screenshot.
TEST_F(SweepE2E, HtmlReportRendersInHeadlessChromium) {
  const std::string chromium = CHROMIUM;
  ASSERT_FALSE(chromium.empty())
      << "chromium not found at configure time: run cluster/install-deps.sh";
  const std::string browser = "timeout 60 " + chromium +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                              "--enable-logging=stderr --v=0 ";
  // The console check can fail: a page with a script error is caught.
  std::ofstream(path("control.html"))
      << "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>";
  const Outcome control = run(browser + "--dump-dom file://" + path("control.html"));
  EXPECT_NE(control.output.find("CONSOLE"), std::string::npos) << control.output;

  Json spec = tiny_spec();
  spec["name"] = "<script>alert(1)</script>";
  spec["description"] = "</pre><img src=x onerror=alert(2)>";
  const std::string db = path("hostile.db");
  const Outcome sweep = run(kBin + " run " + write_spec("hostile.json", spec) + " --db " + db +
                            " --checkpoints none --quiet");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const Outcome report = run(kBin + " results --db " + db + " report --out " + path("report.html"));
  ASSERT_EQ(report.exit_code, 0) << report.output;

  const Outcome dom = run(browser + "--dump-dom file://" + path("report.html"));
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << dom.output;
  size_t rows = 0;
  for (size_t at = dom.output.find("class=\"trial-row\""); at != std::string::npos;
       at = dom.output.find("class=\"trial-row\"", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 4u);  // the four finished trials
  EXPECT_NE(dom.output.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(dom.output.find("<script"), std::string::npos) << "a script element was injected";
  EXPECT_EQ(dom.output.find("<img"), std::string::npos) << "an img element was injected";
  EXPECT_NE(dom.output.find("<svg"), std::string::npos) << "no figure rendered";

  const std::string png = path("report.png");
  const Outcome shot = run(browser + "--window-size=1280,2400 --screenshot=" + png + " file://" +
                           path("report.html"));
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  const std::string bytes = file_bytes(png);
  ASSERT_GT(bytes.size(), 20000u) << shot.output;
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

// From a small trained sweep to predictions: the best trial exported as one file classifies most
// synthetic faces written as image files correctly.
TEST_F(SweepE2E, ExportedBestModelPredictsSyntheticFaces) {
  Json spec = tiny_spec();
  spec["method"] = "grid";
  spec["epochs"] = 10;  // about 12 s; validation accuracy 0.78 with this seed
  spec["data"] = {{"train_size", 2400}, {"val_size", 210}, {"image_size", 48}, {"seed", 2}};
  spec["parameters"] = {{"filters", {{"value", {8, 16, 32, 64}}}},
                        {"convs_per_block", {{"value", 1}}},
                        {"dense", {{"value", {128}}}},
                        {"dropout", {{"value", 0.25}}},
                        {"batch_size", {{"value", 64}}},
                        {"lr", {{"value", 0.0012}}}};
  const std::string db = path("predict.db");
  const Outcome sweep =
      run(kBin + " run " + write_spec("predict.json", spec) + " --db " + db + " --quiet");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const std::string model = path("model.pt");
  const Outcome exported =
      run(kBin + " export-model --db " + db + " --trial best --out " + model + " --json");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(Json::parse(exported.output)["class_names"].size(), 7u);

  const Outcome faces =
      run(kBin + " data synth --format folders --count 70 --seed 9 --out " + path("faces"));
  ASSERT_EQ(faces.exit_code, 0) << faces.output;
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(path("faces"))) {
    if (entry.path().extension() == ".png") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 70u);
  std::string command = kBin + " predict --json --model " + model;
  for (const auto& f : files) command += " " + f;
  const Outcome predicted = run(command);
  ASSERT_EQ(predicted.exit_code, 0) << predicted.output;
  const Json predictions = Json::parse(predicted.output)["predictions"];
  ASSERT_EQ(predictions.size(), files.size());
  int correct = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    double total = 0;
    for (const auto& [name, p] : predictions[i]["probabilities"].items()) total += p.get<double>();
    EXPECT_NEAR(total, 1.0, 1e-6);
    std::string truth = fs::path(files[i]).parent_path().filename().string();  // e.g. "angry"
    std::string guess = predictions[i]["predicted"];
    std::transform(guess.begin(), guess.end(), guess.begin(), ::tolower);
    correct += guess == truth;
  }
  EXPECT_GT(correct, 35) << correct << " of 70 correct (chance: 10)";

  // The same model as ONNX: the same class for every image in LibTorch (above), in OpenCV DNN
  // (`predict` with the .onnx file) and in onnxruntime.
  const std::string onnx = path("model.onnx");
  const Outcome exported_onnx =
      run(kBin + " export-model --db " + db + " --trial best --out " + onnx);
  ASSERT_EQ(exported_onnx.exit_code, 0) << exported_onnx.output;
  EXPECT_NE(exported_onnx.output.find("(onnx)"), std::string::npos) << exported_onnx.output;
  const auto metadata = deploy::read_onnx_metadata(onnx);
  const Json class_names = Json::parse(metadata.at("class_names"));
  EXPECT_EQ(class_names, Json::parse(exported.output)["class_names"]);
  EXPECT_EQ(Json::parse(metadata.at("params"))["lr"], 0.0012);
  EXPECT_GT(Json::parse(metadata.at("metrics")).value("val_accuracy", 0.0), 0.5)
      << metadata.at("metrics");

  std::string onnx_command = kBin + " predict --json --model " + onnx;
  for (const auto& f : files) onnx_command += " " + f;
  const Outcome onnx_predicted = run(onnx_command);
  ASSERT_EQ(onnx_predicted.exit_code, 0) << onnx_predicted.output;
  const Json opencv = Json::parse(onnx_predicted.output);
  EXPECT_EQ(opencv["runtime"], "opencv-dnn");
  const Json opencv_predictions = opencv["predictions"];
  ASSERT_EQ(opencv_predictions.size(), files.size());

  const data::SourceImages decoded = data::load_image_files(files, 48, data::Crop::kNone);
  const std::vector<float> pixels(decoded.pixels.begin(), decoded.pixels.end());
  const auto count = static_cast<int64_t>(files.size());
  const onnx_runtimes::RunResult ort =
      onnx_runtimes::run_in_onnxruntime(onnx, {count, 1, 48, 48}, pixels, path("ort"));
  ASSERT_EQ(ort.error, "");
  const size_t classes = class_names.size();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto row = ort.logits.begin() + static_cast<std::ptrdiff_t>(i * classes);
    const size_t ort_class = std::max_element(row, row + classes) - row;
    EXPECT_EQ(opencv_predictions[i]["predicted"], predictions[i]["predicted"]) << files[i];
    EXPECT_EQ(class_names[ort_class], predictions[i]["predicted"]) << files[i];
    for (const auto& [name, p] : predictions[i]["probabilities"].items()) {
      EXPECT_NEAR(opencv_predictions[i]["probabilities"][name].get<double>(), p.get<double>(), 1e-5)
          << files[i] << " " << name;
    }
  }

  // Bad export requests: one line and exit 2 each, nothing written.
  for (const auto& [arguments, says] : std::vector<std::pair<std::string, std::string>>{
           {"--trial 9999 --out " + path("x.onnx"), "9999"},
           {"--trial best --out /nonexistent_dir_fersweep/m.onnx",
            "/nonexistent_dir_fersweep/m.onnx"},
           {"--trial best --out " + path("x.onnx") + " --format tflite", "--format"}}) {
    const Outcome refused = run(kBin + " export-model --db " + db + " " + arguments);
    EXPECT_EQ(refused.exit_code, 2) << arguments << ": " << refused.output;
    EXPECT_NE(refused.output.find(says), std::string::npos) << refused.output;
    EXPECT_EQ(std::count(refused.output.begin(), refused.output.end(), '\n'), 1) << refused.output;
  }
  // A trial with no checkpoint: a benchmark objective trains no network.
  const Json benchmark = Json::parse(R"({
    "name": "no-model", "method": "random", "seed": 1, "epochs": 2, "budget": {"trials": 1},
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "benchmark": {"function": "learning_curve"},
    "parameters": {"lr": {"value": 0.01}, "dropout": {"value": 0.2}, "batch_size": {"value": 64}}
  })");
  const std::string no_model_db = path("no_model.db");
  ASSERT_EQ(run(kBin + " run " + write_spec("no_model.json", benchmark) + " --db " + no_model_db +
                " --quiet")
                .exit_code,
            0);
  const Outcome no_checkpoint =
      run(kBin + " export-model --db " + no_model_db + " --trial best --out " + path("x.onnx"));
  EXPECT_EQ(no_checkpoint.exit_code, 2) << no_checkpoint.output;
  EXPECT_NE(no_checkpoint.output.find("kept no checkpoint"), std::string::npos)
      << no_checkpoint.output;
  EXPECT_FALSE(fs::exists(path("x.onnx")));

  // A file that is not an exported model, a missing image: exit 2 naming the file.
  const Outcome not_model = run(kBin + " predict --model " + db + " " + files[0]);
  EXPECT_EQ(not_model.exit_code, 2) << not_model.output;
  EXPECT_NE(not_model.output.find(db), std::string::npos) << not_model.output;
  const Outcome not_onnx = run(kBin + " predict --model " + path("model.pt.onnx") + " " + files[0]);
  EXPECT_EQ(not_onnx.exit_code, 2) << not_onnx.output;
  const Outcome no_image = run(kBin + " predict --model " + model + " " + path("nothing.png"));
  EXPECT_EQ(no_image.exit_code, 2) << no_image.output;
  EXPECT_NE(no_image.output.find("nothing.png: no such image file"), std::string::npos)
      << no_image.output;
}

// Faults injected into chosen trials under mpiexec: an exception, a NaN metric and a trial that
// overruns its time limit each end `failed` with their reason and the epoch reached; with one
// retry each config runs again under a new trial number, and the sweep still finishes its budget.
TEST_F(SweepE2E, InjectedFaultsFailTheirTrialsAndRetriesCompleteTheBudget) {
  const auto sweep_with = [&](int retries, const Json& faults, const std::string& name) {
    Json spec = Json::parse(R"({
      "name": "faults", "method": "random", "seed": 4, "epochs": 3,
      "metric": {"name": "val_accuracy", "goal": "maximize"},
      "budget": {"trials": 8},
      "benchmark": {"function": "learning_curve"},
      "failures": {"trial_time_limit": 1},
      "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1},
                     "dropout": {"value": 0.2}, "batch_size": {"value": 64}}
    })");
    spec["failures"]["retries"] = retries;
    spec["benchmark"]["faults"] = faults;
    const std::string db = path(name + ".db");
    const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " +
                            write_spec(name + ".json", spec) + " --db " + db);
    EXPECT_EQ(out.exit_code, 0) << out.output;
    const results::Reader reader(db);
    const auto sweep = reader.sweep(std::nullopt);
    EXPECT_EQ(sweep.status, SweepStatus::kFinished);
    return reader.trials(sweep.id);
  };

  const auto plain = sweep_with(0, {{"1", "throw"}, {"3", "nan"}, {"5", "sleep"}}, "faults");
  ASSERT_EQ(plain.size(), 8u);
  const std::map<int, std::string> expected = {
      {1, "injected fault in trial #1"}, {3, "is nan after epoch 3"}, {5, "trial time limit"}};
  for (const auto& t : plain) {
    const auto fault = expected.find(t.number);
    if (fault == expected.end()) {
      EXPECT_EQ(t.status, TrialStatus::kFinished) << t.number << ": " << t.error;
      continue;
    }
    EXPECT_EQ(t.status, TrialStatus::kFailed) << t.number;
    EXPECT_NE(t.error.find(fault->second), std::string::npos) << t.number << ": " << t.error;
    // Faults strike in the last epoch: a throw or NaN before reporting it, the sleep after.
    EXPECT_EQ(t.epochs_completed, t.number == 5 ? 3 : 2) << t.number;
  }

  // Faults are keyed by trial number and a retry takes the next free number, so the faulty trials
  // here are #0 and #1, handed out before anything can fail: no retry can land on a fault.
  const auto retried = sweep_with(1, {{"0", "throw"}, {"1", "nan"}}, "retried");
  ASSERT_EQ(retried.size(), 10u);  // 8 configs, 2 of them run twice
  std::map<TrialStatus, int> by_status;
  std::map<std::string, std::vector<int>> numbers_of_params;
  for (const auto& t : retried) {
    ++by_status[t.status];
    numbers_of_params[t.params.dump()].push_back(t.number);
  }
  EXPECT_EQ(by_status[TrialStatus::kFinished], 8);  // the budget
  EXPECT_EQ(by_status[TrialStatus::kFailed], 2);
  EXPECT_EQ(numbers_of_params.size(), 8u);
  for (const int failed : {0, 1}) {
    const auto& t = retried[failed];
    ASSERT_EQ(t.number, failed);
    EXPECT_EQ(t.status, TrialStatus::kFailed);
    EXPECT_EQ(numbers_of_params[t.params.dump()].size(), 2u) << "retried with the same config";
  }
}

// Files in two real formats, written by the synthetic generator, swept over source subsets, class
// groupings and face cropping under mpiexec: every trial reports in its grouping's classes.
TEST_F(SweepE2E, SweepOverSourcesAndGroupingsOnRealFormats) {
  const Outcome fer = run(kBin + " data synth --format fer2013 --count 500 --seed 3 --out " +
                          path("files/fer.csv"));
  ASSERT_EQ(fer.exit_code, 0) << fer.output;
  std::ofstream(path("files/fer.csv"), std::ios::app) << "3,1 2 3,Training\n";  // 3 of 2,304 pixels
  const Outcome jaffe = run(kBin + " data synth --format jaffe --count 140 --image-size 96 --out " +
                            path("files/jaffe"));
  ASSERT_EQ(jaffe.exit_code, 0) << jaffe.output;
  Json spec = tiny_spec();
  spec["data"] = {
      {"image_size", 24},
      {"seed", 4},
      {"sources",
       {{"fer", {{"format", "fer2013"}, {"path", path("files/fer.csv")}, {"skip_bad", true}}},
        {"jaffe", {{"format", "jaffe"}, {"path", path("files/jaffe")}}}}}};
  spec["epochs"] = 1;
  spec["parameters"]["lr"] = {{"value", 0.003}};
  spec["parameters"]["batch_size"] = {{"value", 32}};
  spec["parameters"]["sources"] = {{"values", {{"fer"}, {"fer", "jaffe"}}}};
  spec["parameters"]["grouping"] = {{"values", {"fer7", "merge_anger_disgust"}}};
  spec["parameters"]["crop"] = {{"values", {"none", "face"}}};
  const std::string db = path("files.db");
  const Outcome out = run(kMpiexec + " -n 3 " + kBin + " run " + write_spec("files.json", spec) +
                          " --db " + db + " --checkpoints none");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const results::Reader reader(db);
  const auto trials = reader.trials(reader.sweep(std::nullopt).id);
  ASSERT_EQ(trials.size(), 8u);  // sources x grouping x crop
  std::map<size_t, int> sizes;   // validation images per source subset
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, TrialStatus::kFinished) << t.error;
    const results::TrialDetail d = reader.trial(t.id);
    const bool merged = t.params["grouping"] == "merge_anger_disgust";
    ASSERT_EQ(d.class_names.size(), merged ? 6u : 7u);
    EXPECT_EQ(d.class_names[0], merged ? "Angry+Disgust" : "Angry");
    const int64_t val = std::accumulate(d.confusion.begin(), d.confusion.end(), int64_t{0});
    EXPECT_EQ(d.per_class.size(), d.class_names.size());
    // The held-out test split is scored once, at the end.
    EXPECT_TRUE(t.metrics.contains("test_accuracy")) << t.metrics.size();
    EXPECT_TRUE(t.metrics.contains("test_macro_f1"));
    EXPECT_EQ(t.metrics.at("data_skipped_bad"), 1.0);  // the short row, reported and stored
    sizes[t.params["sources"].size()] = static_cast<int>(val);
  }
  // 15 % of each class goes to validation: adding JAFFE's 140 adds about 21 images.
  EXPECT_GT(sizes.at(2), sizes.at(1) + 15);
  const Outcome inspect = run(kBin + " data inspect " + path("files.json") + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const Json counts = Json::parse(inspect.output);
  EXPECT_EQ(counts["sources"]["fer"]["images"], 500);
  EXPECT_EQ(counts["sources"]["jaffe"]["images"], 140);
}

TEST_F(SweepE2E, ModelsReportsEveryArchitectureAsJson) {
  const Outcome out = run(kBin + " models --stem imagenet --batch 0 --classes 6 --json");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const Json rows = Json::parse(out.output);
  ASSERT_EQ(rows.size(), 7u);
  std::map<std::string, int64_t> parameters;
  for (const auto& row : rows) {
    parameters[row["arch"]] = row["parameters"];
    EXPECT_GT(row["forward_flops"].get<double>(), 0) << row;
    EXPECT_GT(row["training_bytes_per_image"].get<double>(), 0) << row;
  }
  EXPECT_EQ(parameters.at("resnet18"), 11'173'318);
  EXPECT_EQ(parameters.at("efficientnet_b0"), 4'014'658);
}

// --trace writes the traced steps' operators, each step's phases marked, as a Chrome trace.
TEST_F(SweepE2E, ModelsTraceMarksEveryPhaseOfEachTracedStep) {
  const std::string dir = path("trace");
  fs::create_directories(dir);
  const Outcome out = run(kBin +
                          " models --params '{\"arch\": \"vgg_custom\", \"filters\": [4, 8], "
                          "\"dense\": [16]}' --image-size 32 --batch 4 --repeats 2 --threads 1 "
                          "--trace " +
                          dir);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  std::ifstream file(dir + "/vgg_custom_imagenet.json");
  ASSERT_TRUE(file) << out.output;
  std::map<std::string, int> events;
  for (const Json& event : Json::parse(file)) events[event["name"].get<std::string>()] += 1;
  for (const char* phase : {"step::forward", "step::backward", "step::optimizer"}) {
    EXPECT_EQ(events[phase], 2) << phase;
  }
  EXPECT_GE(events["aten::mkldnn_convolution"], 2 * 2);  // two convolutions a step
}

// The malformed-input corpus (tests/corpus, written by make_corpus.py): every bad spec given to
// `run` with an existing database, and every corrupt data file given to `data inspect`, exits 2
// with one message naming the file and containing the expected fragment; the database is left
// byte for byte as it was.
TEST_F(SweepE2E, MalformedInputCorpusFailsCleanly) {
  ASSERT_EQ(mpi_run_->exit_code, 0) << mpi_run_->output;
  const std::string corpus = std::string(FERSWEEP_SOURCE_DIR) + "/tests/corpus/";
  const std::string db = path("corpus.db");
  fs::copy_file(mpi_db(), db, fs::copy_options::overwrite_existing);
  const std::string before = file_bytes(db);
  std::ifstream table(corpus + "expected.tsv");
  ASSERT_TRUE(table) << corpus << "expected.tsv";
  int specs = 0, data = 0;
  for (std::string line; std::getline(table, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, '\t');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 4u) << line;
    const auto& [kind, file, format, fragment] =
        std::tie(fields[0], fields[1], fields[2], fields[3]);
    const std::string target = corpus + file;
    const Outcome out =
        kind == "spec"
            ? run(kBin + " run '" + target + "' --db " + db)
            : run(kBin + " data inspect --format " + format + " --path '" + target + "'");
    (kind == "spec" ? specs : data) += 1;
    EXPECT_EQ(out.exit_code, 2) << file << "\n" << out.output;
    EXPECT_NE(out.output.find(fragment), std::string::npos) << file << "\n" << out.output;
    // Named: the spec file itself, or the data file or folder (or an entry inside it).
    EXPECT_NE(out.output.find(target), std::string::npos) << file << "\n" << out.output;
    // One message of ours (libpng may print its own diagnostics before it).
    size_t ours = 0;
    for (size_t at = out.output.find("fersweep: "); at != std::string::npos;
         at = out.output.find("fersweep: ", at + 1)) {
      ours += at == 0 || out.output[at - 1] == '\n';
    }
    EXPECT_EQ(ours, 1u) << out.output;
  }
  EXPECT_GE(specs, 40);
  EXPECT_GE(data, 20);
  EXPECT_EQ(file_bytes(db), before) << "a rejected input changed the database";
}

// Hostile class, parameter, metric and sweep names and error messages (tests/hostile_store.h)
// through the real command line: text reaches the terminal without a control character, JSON
// parses, and the report and figures are written.
TEST_F(SweepE2E, HostileNamesReachTheTerminalAsTextAndJsonAsJson) {
  const std::string db = path("hostile.db");
  testing_hostile::write_hostile_sweep(db);
  const std::string base = kBin + " results --db " + db + " ";
  for (const std::string& command :
       {std::string("sweeps"), std::string("rank"), std::string("list"), std::string("show 1"),
        std::string("show 6"), std::string("compare 1 2 6"), std::string("summary"),
        std::string("importance")}) {
    const Outcome text = run(base + command);
    EXPECT_EQ(text.exit_code, 0) << command << "\n" << text.output;
    EXPECT_EQ(text.output.find_first_of(std::string("\x1b\x07\x0b\x01\0", 5)), std::string::npos)
        << command << "\n"
        << text.output;
    const Outcome json = run(base + command + " --json");
    EXPECT_EQ(json.exit_code, 0) << command << "\n" << json.output;
    EXPECT_NO_THROW(nlohmann::json::parse(json.output)) << command << "\n" << json.output;
  }
  EXPECT_EQ(run(base + "report --out " + path("hostile.html")).exit_code, 0);
  EXPECT_EQ(run(base + "plot --out " + path("hostile_plots")).exit_code, 0);
  EXPECT_EQ(run(base + "export --out " + path("hostile_csv")).exit_code, 0);
}

// A coarse sweep warm-starts a finer one from the command line; configs are enqueued into the
// finished sweep (a bad file changes nothing) and run on --resume.
TEST_F(SweepE2E, WarmStartInitialConfigsAndEnqueuedConfigsFromTheCommandLine) {
  const std::string db = path("warm.db");
  Json coarse = Json::parse(R"({
    "name": "coarse", "method": "tpe", "seed": 3, "budget": {"trials": 10},
    "benchmark": {"function": "branin"}, "metric": {"name": "value", "goal": "minimize"},
    "parameters": {"x1": {"distribution": "uniform", "min": -5, "max": 10},
                   "x2": {"distribution": "uniform", "min": 0, "max": 15}}})");
  Outcome out = run(kBin + " run " + write_spec("coarse.json", coarse) + " --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;

  Json fine = coarse;
  fine["name"] = "fine";
  fine["budget"]["trials"] = 4;
  fine["parameters"]["x1"]["min"] = 0;  // coarse configs with x1 < 0 fall outside
  fine["initial_configs"] = {{{"x1", 3.14}, {"x2", 2.27}}};
  fine["warm_start"] = {{"db", db}, {"sweep", "coarse"}};
  const std::string fine_spec = write_spec("fine.json", fine);
  out = run(kBin + " run " + fine_spec + " --db " + db);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("trial(s) of sweep 1 \"coarse\" in " + db + " seed the tpe"),
            std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("outside this sweep's space (e.g. trial #"), std::string::npos)
      << out.output;
  {
    const results::Reader reader(db);
    const auto trials = reader.trials(2);
    ASSERT_EQ(trials.size(), 4u);
    EXPECT_EQ(trials[0].params, fine["initial_configs"][0]);
  }

  std::ofstream(path("bad.json")) << R"([{"x1": 9.42, "x2": 2.47}, {"x2": 99}])";
  out = run(kBin + " run " + fine_spec + " --db " + db + " --enqueue " + path("bad.json"));
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("bad.json: [1]: x2: 99 is outside [0, 15]"), std::string::npos)
      << out.output;
  std::ofstream(path("more.json")) << R"([{"x1": 9.42, "x2": 2.47}])";
  out = run(kBin + " run " + fine_spec + " --db " + db + " --enqueue " + path("more.json"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("1 config(s) from " + path("more.json") + " enqueued for sweep 2"),
            std::string::npos)
      << out.output;
  EXPECT_EQ(results::Reader(db).trials(2).size(), 4u);  // enqueued, not run yet
  out = run(kBin + " run " + fine_spec + " --db " + db + " --resume");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const auto trials = results::Reader(db).trials(2);
  ASSERT_EQ(trials.size(), 5u);  // the bad file's first config was never enqueued
  EXPECT_EQ(trials.back().params, Json({{"x1", 9.42}, {"x2", 2.47}}));
  EXPECT_EQ(trials.back().status, TrialStatus::kFinished);

  fine["warm_start"]["db"] = path("missing.db");
  out = run(kBin + " run " + write_spec("missing.json", fine) + " --db " + path("other.db"));
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("missing.json: warm_start.db: "), std::string::npos) << out.output;
  EXPECT_FALSE(fs::exists(path("other.db")));
}

TEST_F(SweepE2E, BadCommandLinesExitTwoWithOneLine) {
  const std::string missing_db = path("never.db");
  const std::pair<std::string, std::string> cases[] = {
      {"", "usage: fersweep"},
      {"train", "unknown command \"train\""},
      {"run " + spec_path(), "fersweep run: --db is required"},
      {"run --db x.db", "fersweep run: missing SPEC"},
      {"run " + spec_path() + " --db " + missing_db + " --threads zero",
       "--threads expects an integer"},
      {"run " + spec_path() + " --db " + missing_db + " --colour red", "unknown option --colour"},
      {"run " + spec_path() + " --db " + missing_db + " --device gpu",
       "--device: expected auto, cpu, cuda or cuda:N, got \"gpu\""},
      {"run " + spec_path() + " --db " + missing_db + " --device cuda:x1",
       "--device: expected auto, cpu, cuda or cuda:N, got \"cuda:x1\""},
      {"run " + spec_path() + " --db " + missing_db + " --device cuda:99",
       "--device cuda:99: this LibTorch or machine has"},
      {"results --db " + missing_db + " rank", missing_db + ": no such database"},
      {"results --db " + missing_db + " show x", "TRIAL must be a positive trial id"},
      {"results rank", "--db is required"},
      {"results --db " + missing_db + " frobnicate", "unknown subcommand \"frobnicate\""},
      {"results --db " + missing_db + " compare 1 y", "TRIAL must be a positive trial id"},
      {"results --db " + missing_db + " list --where 'lr <'", missing_db + ": no such database"},
      {"results --db " + missing_db + " upgrade", missing_db + ": no such database"},
      {"results --db " + missing_db + " copy --out " + path("copy.db"),
       missing_db + ": no such database"},
      {"models --arch alexnet", "--arch: unknown architecture \"alexnet\""},
      {"models --params '{\"filters\": [0]}'", "parameters.filters: every entry must be"},
      {"models --params '{\"arch\": \"vgg_custom\", \"filters\": [8, 8, 8, 8, 8, 8]}'",
       "vgg_custom: filters: 6 pooling blocks shrink a 48 px image below 1 px"},
      {"models --stem tiny", "--stem: unknown \"tiny\""},
      {"models --arch vgg_custom --trace " + missing_db,
       "--trace: " + missing_db + ": not a folder"},
      {"models --arch vgg_custom --batch 0 --trace " + path(""), "--trace: needs timed steps"},
      {"data synth --format affectnet --out " + path("x"), "--format: unknown \"affectnet\""},
      {"data inspect --format jaffe --path " + missing_db, missing_db + ": no such"},
      {"data synth --format jaffe --out " + path("y") + " --disgust-keep 2",
       "--disgust-keep: expected a number in (0, 1]"},
  };
  for (const auto& [args, fragment] : cases) {
    const Outcome out = run(kBin + " " + args);
    EXPECT_EQ(out.exit_code, 2) << args << "\n" << out.output;
    EXPECT_NE(out.output.find(fragment), std::string::npos) << args << "\n" << out.output;
  }
  EXPECT_FALSE(fs::exists(missing_db));
}

}  // namespace
}  // namespace fersweep
