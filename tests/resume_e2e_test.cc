// Crash and resume under real mpiexec: the sweep is killed with SIGKILL at several points while
// trials run, resumed each time with --resume, and must end with exactly its budget of finished
// trials, every grid point once, and an intact database. Each trial keeps its training state after
// every epoch, so an interrupted trial continues from its last epoch: as itself, on any rank, and
// bit for bit as it would have run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "results/queries.h"
#include "results/sqlite.h"
#include "results/store.h"
#include "tests/e2e_support.h"

namespace fersweep {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using e2e::Outcome;
using e2e::processes_mentioning;
using e2e::run;
using e2e::spawn;

const std::string kBin = FERSWEEP_BIN;
const std::string kMpiexec = MPIEXEC;
constexpr int kGridPoints = 18;
constexpr int kEpochs = 3;
constexpr int kValSize = 40;

Json grid_spec() {
  return Json::parse(R"({
    "name": "crash", "method": "grid", "seed": 3, "epochs": 3,
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "data": {"train_size": 1500, "val_size": 40, "image_size": 24, "seed": 2},
    "resources": {"threads_per_worker": 1},
    "parameters": {
      "filters": {"value": [4, 8]}, "convs_per_block": {"value": 1},
      "lr": {"values": [0.003, 0.01, 0.03]}, "batch_size": {"values": [16, 32]},
      "dense": {"values": [[16], [24], [32]]}
    }
  })");
}

int occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Kills the whole job at once, mpiexec and every rank (left alone, ranks outlive a killed
// mpiexec for a moment and go on training), and waits for them to be gone: none may write to the
// database on resume.
void kill_job(pid_t mpiexec, const std::string& spec) {
  for (const pid_t rank : processes_mentioning(spec)) kill(rank, SIGKILL);
  ASSERT_EQ(kill(mpiexec, SIGKILL), 0);
  int status = 0;
  waitpid(mpiexec, &status, 0);
  const auto gone = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!processes_mentioning(spec).empty() && std::chrono::steady_clock::now() < gone) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(processes_mentioning(spec).empty()) << "ranks outlived mpiexec";
}

TEST(ResumeE2E, KilledAtRandomPointsAndResumedTheSweepEndsWithExactlyItsBudget) {
  const std::string dir = e2e::mpi_test_dir("resume");
  const std::string spec = dir + "/crash.json", db = dir + "/crash.db", log = dir + "/log.txt";
  std::ofstream(spec) << grid_spec().dump(2);
  const std::vector<std::string> command = {
      kMpiexec, "--oversubscribe", "-n", "3", kBin, "run", spec, "--db", db, "--resume"};

  std::mt19937 rng(20261125);  // the kill points: reproducible, varied
  int kills = 0;
  for (int round = 0; round < 5; ++round) {
    const int64_t before = e2e::finished_trials(db);
    if (before >= kGridPoints - 1) break;  // leave something for the last, clean run
    const pid_t mpiexec = spawn(command, log);
    // Wait until this run has finished a trial of its own, then kill at a random moment after.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (e2e::finished_trials(db) == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng)));
    kill_job(mpiexec, spec);
    ++kills;
  }
  ASSERT_GE(kills, 3);

  std::string joined;
  for (const auto& a : command) joined += a + " ";
  const Outcome last = run(joined + "--quiet");
  ASSERT_EQ(last.exit_code, 0) << last.output << e2e::file_bytes(log);

  const results::Reader reader(db);
  const auto sweeps = reader.sweeps();
  ASSERT_EQ(sweeps.size(), 1u);  // every run resumed the same sweep
  EXPECT_EQ(sweeps[0].status, SweepStatus::kFinished);
  const auto trials = reader.trials(sweeps[0].id);
  std::set<std::string> finished_configs;
  int finished = 0;
  std::set<int> numbers;
  for (const auto& t : trials) {
    EXPECT_TRUE(numbers.insert(t.number).second) << "trial number " << t.number << " twice";
    // Killed before its first epoch, a trial has no state: it ran again as a new trial.
    if (t.status == TrialStatus::kInterrupted) {
      EXPECT_EQ(t.epochs_completed, 0) << t.error;
      continue;
    }
    ASSERT_EQ(t.status, TrialStatus::kFinished) << t.error;
    ++finished;
    EXPECT_TRUE(finished_configs.insert(t.params.dump()).second)
        << "grid point finished twice: " << t.params.dump();
    const results::TrialDetail d = reader.trial(t.id);
    EXPECT_EQ(t.epochs_completed, kEpochs);
    EXPECT_EQ(d.epochs.size(), static_cast<size_t>(kEpochs));
    EXPECT_EQ(std::accumulate(d.confusion.begin(), d.confusion.end(), int64_t{0}), kValSize);
  }
  EXPECT_EQ(finished, kGridPoints);
  EXPECT_EQ(finished_configs.size(), static_cast<size_t>(kGridPoints));
  const int continued = occurrences(e2e::file_bytes(log), "continues after epoch");
  EXPECT_GE(continued, 1) << "no kill landed while a trial ran: nothing was tested";

  sql::Database check(db, true);
  sql::Statement integrity(check, "PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.text(0), "ok");
  sql::Statement foreign(check, "PRAGMA foreign_key_check");
  EXPECT_FALSE(foreign.step()) << "a row refers to a missing trial or epoch";
  std::printf("%d kills, %d trials continued from their last epoch, %d finished\n", kills,
              continued, finished);
  fs::remove_all(dir);
}

// Every epoch of every finished trial of a sweep database, by config (a config run again from
// the start keeps its seed, not its number).
using Curves = std::map<std::string, std::vector<std::map<std::string, double>>>;
Curves curves(const std::string& db) {
  Curves out;
  const results::Reader reader(db);
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    if (t.status != TrialStatus::kFinished) continue;
    for (const auto& e : reader.trial(t.id).epochs) out[t.params.dump()].push_back(e.values);
  }
  return out;
}

// Where two sweeps' curves first differ, or "" when they are equal.
std::string first_difference(const Curves& a, const Curves& b) {
  for (const auto& [config, epochs] : a) {
    const auto other = b.find(config);
    if (other == b.end()) return config + ": only in the first";
    for (size_t e = 0; e < std::max(epochs.size(), other->second.size()); ++e) {
      if (e >= epochs.size() || e >= other->second.size() || epochs[e] != other->second[e]) {
        return fmt::format("{}: epoch {} of {} and {}", config, e + 1, epochs.size(),
                           other->second.size());
      }
    }
  }
  return a.size() == b.size() ? "" : "configs only in the second";
}

std::string listing(const std::string& dir) {
  std::string out;
  for (const auto& entry : fs::directory_iterator(dir))
    out += entry.path().filename().string() + " ";
  return out;
}

// A number from a database another process writes; -1 while it cannot be read yet.
int64_t query(const std::string& db, const std::string& sql) {
  try {
    sql::Database reader(db, true);
    sql::Statement statement(reader, sql);
    return statement.step() ? statement.integer(0) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// Two trials train side by side on ranks 1 and 2 and the job is killed once each has stored an
// epoch with its state. Resumed on one worker (rank 1), both continue from their last epoch,
// one of them on a rank it never ran on, and every epoch equals the uninterrupted sweep's.
TEST(ResumeE2E, AKilledTrialContinuesOnAnotherRankBitForBit) {
  const std::string dir = e2e::mpi_test_dir("continue");
  Json doc = grid_spec();
  doc["epochs"] = 4;
  doc["data"]["train_size"] = 3000;
  doc["parameters"]["dense"] = {{"value", {16}}};
  doc["parameters"]["batch_size"] = {{"value", 32}};
  doc["parameters"]["lr"] = {{"values", {0.003, 0.01}}};
  doc["parameters"]["dropout"] = {{"value", 0.3}};
  doc["parameters"]["rotation"] = {{"value", 10.0}};
  const std::string spec = dir + "/continue.json", log = dir + "/log.txt";
  std::ofstream(spec) << doc.dump(2);
  const auto command = [&](int ranks, const std::string& db) {
    return std::vector<std::string>{
        kMpiexec, "--oversubscribe", "-n", std::to_string(ranks), kBin, "run", spec, "--db", db};
  };
  const auto joined = [](const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) out += a + " ";
    return out;
  };
  const Outcome reference = run(joined(command(3, dir + "/reference.db")) + "--quiet");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;

  const std::string db = dir + "/cut.db";
  const pid_t mpiexec = spawn(command(3, db), log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  const std::string both_saved =
      "SELECT count(*) FROM trials WHERE status = 'running' AND state_epoch >= 1";
  while (query(db, both_saved) < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int64_t on_rank_two = query(db, "SELECT number FROM trials WHERE worker_rank = 2");
  kill_job(mpiexec, spec);
  ASSERT_EQ(query(db, "SELECT count(*) FROM trials WHERE state_epoch >= 1"), 2)
      << e2e::file_bytes(log);
  ASSERT_GE(on_rank_two, 0);

  const Outcome resumed = run(joined(command(2, db)) + "--resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(occurrences(resumed.output, "continues after epoch"), 2) << resumed.output;
  EXPECT_EQ(query(db, "SELECT count(*) FROM trials"), 2) << "a trial ran again from scratch";
  EXPECT_EQ(query(db, fmt::format("SELECT worker_rank FROM trials WHERE number = {}", on_rank_two)),
            1)
      << "the trial that ran on rank 2 continued on rank 1";
  const Curves expected = curves(dir + "/reference.db"), got = curves(db);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(first_difference(got, expected), "");
  fs::remove_all(dir);
}

// Twenty kills of the whole job at random moments, each followed by --resume. Trials keep their
// state after every epoch, so a kill loses at most the epoch each running trial was in: the
// database ends with every grid point finished once and every planned epoch recorded exactly once
// (none trained twice into the record), each equal to the uninterrupted sweep's, noise included.
TEST(ResumeE2E, TwentyKillsLoseAtMostTheEpochsInFlight) {
  const std::string dir = e2e::mpi_test_dir("kills");
  constexpr int kPoints = 16, kLongEpochs = 10;
  const std::string spec = dir + "/kills.json", db = dir + "/kills.db", log = dir + "/log.txt";
  std::ofstream(spec) << Json::parse(R"({
    "name": "kills", "method": "grid", "seed": 7, "epochs": 10, "checkpoints": "every_epoch",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "benchmark": {"function": "learning_curve", "seconds_per_epoch": 0.12, "noise_sd": 0.02},
    "parameters": {"lr": {"values": [0.0003, 0.001, 0.003, 0.01]},
                   "dropout": {"values": [0.1, 0.3, 0.5, 0.7]}}
  })")
                             .dump(2);
  const std::string base = kMpiexec + " --oversubscribe -n 3 " + kBin + " run " + spec;
  const Outcome reference = run(base + " --db " + dir + "/reference.db --quiet");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;

  const std::vector<std::string> command = {
      kMpiexec, "--oversubscribe", "-n", "3", kBin, "run", spec, "--db", db, "--resume"};
  std::mt19937 rng(20261202);
  int kills = 0;
  const std::string epochs = "SELECT count(*) FROM epochs";
  while (kills < 20 && e2e::finished_trials(db) < kPoints) {
    // Each run gets going (it stores an epoch of its own), then dies at a random moment after.
    const int64_t before = query(db, epochs);
    const pid_t mpiexec = spawn(command, log);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (query(db, epochs) <= before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    kill_job(mpiexec, spec);
    ++kills;
  }
  EXPECT_EQ(kills, 20) << "the sweep finished before the twentieth kill";
  const Outcome last = run(base + " --db " + db + " --resume --quiet");
  ASSERT_EQ(last.exit_code, 0) << last.output;

  const results::Reader reader(db);
  std::set<std::string> finished;
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    if (t.status != TrialStatus::kFinished) continue;
    EXPECT_TRUE(finished.insert(t.params.dump()).second) << "finished twice: " << t.params;
  }
  EXPECT_EQ(finished.size(), static_cast<size_t>(kPoints));
  EXPECT_EQ(query(db, "SELECT count(*) FROM epochs"), kPoints * kLongEpochs);
  // Epochs trained: those stored, those a continued trial trained again, and at most the one in
  // flight of each trial a kill left to run again from the start. Two trials run at a time.
  const int64_t trained = query(db, "SELECT count(*) FROM epochs") +
                          query(db, "SELECT sum(epochs_redone) FROM trials") +
                          query(db, "SELECT count(*) FROM trials WHERE status = 'interrupted'");
  EXPECT_LE(trained, kPoints * kLongEpochs + 2 * kills);
  // Each continuation the killed runs logged is a run of its trial (the last, quiet run logs none).
  EXPECT_GE(query(db, "SELECT sum(runs - 1) FROM trials"),
            occurrences(e2e::file_bytes(log), "continues after epoch"));
  EXPECT_EQ(first_difference(curves(db), curves(dir + "/reference.db")), "");
  EXPECT_GE(occurrences(e2e::file_bytes(log), "continues after epoch"), 5);
  sql::Database check(db, true);
  sql::Statement integrity(check, "PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.text(0), "ok");
  EXPECT_EQ(listing(dir + "/kills_state"), "") << "finished trials keep no state";
  std::printf("%d kills, %d continuations\n", kills,
              occurrences(e2e::file_bytes(log), "continues after epoch"));
  fs::remove_all(dir);
}

// SIGTERM, as Slurm sends it to every process of a job step before its time limit: the workers
// ignore it, the coordinator hands out no more work, stops running trials at their next epoch,
// records them as interrupted and the sweep as interrupted, and exits; --resume then finishes
// exactly the budget.
TEST(ResumeE2E, StopSignalInterruptsRunningTrialsAndResumeFinishesTheBudget) {
  const std::string dir = e2e::mpi_test_dir("term");
  Json doc = grid_spec();
  doc["epochs"] = 8;
  doc["parameters"]["dense"] = {{"value", {16}}};
  doc["parameters"]["lr"] = {{"values", {0.003, 0.03}}};  // 4 grid points
  const std::string spec = dir + "/term.json", db = dir + "/term.db", log = dir + "/log.txt";
  std::ofstream(spec) << doc.dump(2);
  const std::vector<std::string> command = {
      kMpiexec, "--oversubscribe", "-n",  "3", kBin, "run", spec, "--db",
      db,       "--checkpoints",   "none"};
  const pid_t mpiexec = spawn(command, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (e2e::finished_trials(db) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // One worker has just begun its second trial (epoch 1 of 8): it will be interrupted.
  for (pid_t pid : processes_mentioning(spec)) kill(pid, SIGTERM);
  int status = 0;
  waitpid(mpiexec, &status, 0);
  const std::string output = e2e::file_bytes(log);
  EXPECT_NE(output.find("fersweep: stopped by signal 15: "), std::string::npos) << output;
  {
    const results::Reader reader(db);
    const results::SweepSummary sweep = reader.sweep(std::nullopt);
    EXPECT_EQ(sweep.status, SweepStatus::kInterrupted);
    int interrupted = 0;
    for (const auto& t : reader.trials(sweep.id)) {
      EXPECT_NE(t.status, TrialStatus::kRunning);
      EXPECT_NE(t.status, TrialStatus::kPending);
      if (t.status != TrialStatus::kInterrupted) continue;
      ++interrupted;
      EXPECT_GE(t.epochs_completed, 1);
      EXPECT_LT(t.epochs_completed, 8);
      EXPECT_EQ(reader.trial(t.id).epochs.size(), static_cast<size_t>(t.epochs_completed));
      EXPECT_NE(t.error.find("interrupted by signal 15 after epoch"), std::string::npos) << t.error;
    }
    EXPECT_GE(interrupted, 1);
  }
  std::string joined;
  for (const auto& a : command) joined += a + " ";
  const Outcome resumed = run(joined + "--resume --quiet");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const results::Reader reader(db);
  std::set<std::string> finished;
  for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
    if (t.status == TrialStatus::kFinished) {
      EXPECT_TRUE(finished.insert(t.params.dump()).second);
    }
  }
  EXPECT_EQ(finished.size(), 4u);
  EXPECT_EQ(reader.sweep(std::nullopt).status, SweepStatus::kFinished);
  fs::remove_all(dir);
}

// A worker silent past failures.progress_deadline is lost: its trial is recorded as interrupted
// and runs again on another worker. One that wakes up again is taken back; one that stays silent
// is aborted once nothing else is left, and --resume then completes the sweep.
TEST(ResumeE2E, SilentWorkersAreLostAndTheirTrialsRunAgain) {
  const std::string dir = e2e::mpi_test_dir("lost");
  // Trial #1 sleeps in its last epoch for failures.trial_time_limit + 1 seconds.
  auto spec_with_sleep = [&](double time_limit, const std::string& name) {
    Json doc = Json::parse(R"({
      "name": "lost", "method": "random", "seed": 2, "epochs": 3,
      "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 6},
      "benchmark": {"function": "learning_curve", "seconds_per_epoch": 0.05,
                    "faults": {"1": "sleep"}},
      "failures": {"progress_deadline": 0.7},
      "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1}}
    })");
    if (time_limit > 0) doc["failures"]["trial_time_limit"] = time_limit;
    const std::string path = dir + "/" + name + ".json";
    std::ofstream(path) << doc.dump(2);
    return path;
  };
  auto check = [&](const std::string& db) {
    const results::Reader reader(db);
    std::set<std::string> finished;
    bool lost_one = false;
    for (const auto& t : reader.trials(reader.sweep(std::nullopt).id)) {
      if (t.status == TrialStatus::kFinished) {
        EXPECT_TRUE(finished.insert(t.params.dump()).second);
      }
      if (t.number == 1) {
        EXPECT_EQ(t.status, TrialStatus::kInterrupted);
        EXPECT_NE(t.error.find("lost: rank "), std::string::npos) << t.error;
        lost_one = true;
      }
    }
    EXPECT_TRUE(lost_one);
    EXPECT_EQ(finished.size(), 6u);
    EXPECT_EQ(reader.sweep(std::nullopt).status, SweepStatus::kFinished);
  };

  // Asleep 1 s, lost after 0.7 s, back after 1 s: the sweep ends normally. The coordinator would
  // give it up 0.7 s after losing it (1.4 s), however soon the other trials end.
  const std::string back_db = dir + "/back.db";
  const Outcome back = run(kMpiexec + " --oversubscribe -n 3 " + kBin + " run " +
                           spec_with_sleep(0, "back") + " --db " + back_db);
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_NE(back.output.find("lost: rank"), std::string::npos) << back.output;
  check(back_db);

  // Asleep 31 s: once the rest is done the coordinator stops waiting and aborts it.
  const std::string gone_db = dir + "/gone.db";
  const std::string gone_spec = spec_with_sleep(30, "gone");
  const auto start = std::chrono::steady_clock::now();
  const Outcome gone =
      run(kMpiexec + " --oversubscribe -n 3 " + kBin + " run " + gone_spec + " --db " + gone_db);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.output.find("1 worker(s) stopped reporting and never came back"),
            std::string::npos)
      << gone.output;
  const Outcome resumed = run(kMpiexec + " --oversubscribe -n 3 " + kBin + " run " + gone_spec +
                              " --db " + gone_db + " --resume --quiet");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  check(gone_db);
  fs::remove_all(dir);
}

// A sweep started from one spec is not resumed from another unless forced: the refusal names the
// changes, exits 2 and leaves the database as it was.
TEST(ResumeE2E, ResumingWithAChangedSpecIsRefusedUnlessForced) {
  const std::string dir = testing_paths::process_scratch_dir() + "/respec";
  fs::create_directories(dir);
  Json original = Json::parse(R"({
    "name": "respec", "method": "random", "seed": 1, "epochs": 2,
    "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 3},
    "benchmark": {"function": "learning_curve"},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.01}}
  })");
  const std::string db = dir + "/respec.db";
  {
    results::Store store(db);  // a sweep that stopped before it ran anything
    store.create_sweep({"respec", "random", "val_accuracy", true, 1, 3, original});
  }
  Json changed = original;
  changed["parameters"]["lr"]["max"] = 0.1;
  changed["epochs"] = 4;
  const std::string spec = dir + "/respec.json";
  std::ofstream(spec) << changed.dump(2);
  const std::string before = e2e::file_bytes(db);
  const Outcome refused = run(kBin + " run " + spec + " --db " + db + " --resume");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("sweep 1 \"respec\" was started from a different spec"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("epochs: 2 -> 4"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("parameters.lr.max: 0.01 -> 0.1"), std::string::npos)
      << refused.output;
  EXPECT_EQ(e2e::file_bytes(db), before);

  const Outcome forced = run(kBin + " run " + spec + " --db " + db + " --resume --force --quiet");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  const results::Reader reader(db);
  ASSERT_EQ(reader.sweeps().size(), 1u);
  EXPECT_EQ(reader.trials(1).size(), 3u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fersweep
