// Crash and resume under real mpiexec: the sweep is killed with SIGKILL at several points while
// trials run, resumed each time with --resume, and must end with exactly its budget of finished
// trials, every grid point once, and an intact database.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <thread>

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
using e2e::run;

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

// Starts `argv` as a child process of its own (mpiexec itself, no shell in between).
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "a", stdout);
    std::freopen(log.c_str(), "a", stderr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Processes whose command line mentions `needle` (the sweep's spec path): mpiexec and the ranks.
std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = e2e::file_bytes(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos && cmdline.find("fersweep") != std::string::npos)
      pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

TEST(ResumeE2E, KilledAtRandomPointsAndResumedTheSweepEndsWithExactlyItsBudget) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const std::string dir = testing::TempDir() + "/fersweep_resume_" + std::to_string(getpid());
  fs::create_directories(dir);
  const std::string spec = dir + "/crash.json", db = dir + "/crash.db", log = dir + "/log.txt";
  std::ofstream(spec) << grid_spec().dump(2);
  const std::vector<std::string> command = {
      kMpiexec,   "--oversubscribe", "-n",  "3", kBin, "run", spec, "--db", db,
      "--resume", "--checkpoints",   "none"};

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
    ASSERT_EQ(kill(mpiexec, SIGKILL), 0);
    int status = 0;
    waitpid(mpiexec, &status, 0);
    ++kills;
    // Open MPI takes its ranks down with mpiexec; none may write to the database on resume.
    const auto gone = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!processes_mentioning(spec).empty() && std::chrono::steady_clock::now() < gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(processes_mentioning(spec).empty()) << "ranks outlived mpiexec";
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
  int finished = 0, interrupted = 0;
  std::set<int> numbers;
  for (const auto& t : trials) {
    EXPECT_TRUE(numbers.insert(t.number).second) << "trial number " << t.number << " twice";
    if (t.status == TrialStatus::kInterrupted) {
      ++interrupted;
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
  EXPECT_GE(interrupted, 1) << "no kill landed while a trial ran: nothing was tested";

  sql::Database check(db, true);
  sql::Statement integrity(check, "PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.text(0), "ok");
  sql::Statement foreign(check, "PRAGMA foreign_key_check");
  EXPECT_FALSE(foreign.step()) << "a row refers to a missing trial or epoch";
  std::printf("%d kills, %d interrupted trials re-run, %d finished\n", kills, interrupted,
              finished);
  fs::remove_all(dir);
}

// SIGTERM, as Slurm sends it to every process of a job step before its time limit: the workers
// ignore it, the coordinator hands out no more work, stops running trials at their next epoch,
// records them as interrupted and the sweep as interrupted, and exits; --resume then finishes
// exactly the budget.
TEST(ResumeE2E, StopSignalInterruptsRunningTrialsAndResumeFinishesTheBudget) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const std::string dir = testing::TempDir() + "/fersweep_term_" + std::to_string(getpid());
  fs::create_directories(dir);
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
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const std::string dir = testing::TempDir() + "/fersweep_lost_" + std::to_string(getpid());
  fs::create_directories(dir);
  // Trial #1 sleeps in its last epoch for failures.trial_time_limit + 1 seconds.
  auto spec_with_sleep = [&](double time_limit, const std::string& name) {
    Json doc = Json::parse(R"({
      "name": "lost", "method": "random", "seed": 2, "epochs": 3,
      "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 6},
      "benchmark": {"function": "learning_curve", "seconds_per_epoch": 0.05,
                    "faults": {"1": "sleep"}},
      "failures": {"progress_deadline": 0.4},
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

  // Asleep 1 s, lost after 0.4 s, back after 1 s: the sweep ends normally.
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
  const std::string dir = testing::TempDir() + "/fersweep_respec_" + std::to_string(getpid());
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
