#include "results/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "results/queries.h"
#include "results/sqlite.h"
#include "tests/test_paths.h"

namespace fersweep::results {
namespace {

namespace fs = std::filesystem;

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing_paths::test_scratch_path("store") + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  std::string path_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

NewSweep sample_sweep() {
  return {"unit", "grid", "val_accuracy", true, 7, 2, nlohmann::json{{"method", "grid"}}};
}

TrialResult finished_result(int64_t trial_id) {
  TrialResult r;
  r.trial_id = trial_id;
  r.epochs_completed = 2;
  r.class_names = {"Angry", "Happy"};
  r.confusion = {3, 1, 2, 4};
  r.per_class = {{"Angry", 0.6, 0.75, 0.6666, 4}, {"Happy", 0.8, 0.6667, 0.7272, 6}};
  r.final_metrics = {{"val_accuracy", 0.7}, {"val_loss", 0.55}};
  r.wall_seconds = 1.5;
  r.images_per_second = 320;
  r.param_count = 1234;
  r.checkpoint = "/ckpt/trial_000001.json";
  return r;
}

TEST_F(StoreTest, NewDatabaseHasSchemaVersionAndWal) {
  { Store store(path_); }
  sql::Database db(path_, true);
  sql::Statement version(db, "PRAGMA user_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.integer(0), kSchemaVersion);
  sql::Statement mode(db, "PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
}

TEST_F(StoreTest, RoundTripsATrialWithEpochsMatrixAndReport) {
  int64_t sweep_id = 0, trial_id = 0;
  {
    Store store(path_);
    sweep_id = store.create_sweep(sample_sweep());
    trial_id = store.add_trial(sweep_id, 0, {{"lr", 0.01}, {"filters", {8, 16}}}, 99);
    store.start_trial(trial_id, 3);
    store.record_epoch({trial_id, 1, 0.7, {{"train_loss", 1.2}, {"val_macro_f1", 0.45}}, {}});
    store.record_epoch({trial_id, 2, 0.6, {{"train_loss", 0.9}, {"val_macro_f1", 0.69}}, {}});
    store.finish_trial(finished_result(trial_id), 0.7);
    store.finish_sweep(sweep_id, SweepStatus::kFinished);
  }
  const Reader reader(path_);
  const SweepSummary sweep = reader.sweep(std::nullopt);
  EXPECT_EQ(sweep.id, sweep_id);
  EXPECT_EQ(sweep.status, SweepStatus::kFinished);
  EXPECT_EQ(sweep.trials_by_status.at(TrialStatus::kFinished), 1);
  EXPECT_EQ(sweep.spec, (nlohmann::json{{"method", "grid"}}));

  const TrialDetail d = reader.trial(trial_id);
  EXPECT_EQ(d.trial.status, TrialStatus::kFinished);
  EXPECT_EQ(d.trial.params["filters"], (nlohmann::json{8, 16}));
  EXPECT_EQ(d.trial.worker_rank, 3);
  EXPECT_EQ(d.trial.epochs_completed, 2);
  EXPECT_DOUBLE_EQ(*d.trial.objective, 0.7);
  EXPECT_EQ(d.trial.param_count, 1234);
  EXPECT_EQ(d.trial.checkpoint, "/ckpt/trial_000001.json");
  EXPECT_DOUBLE_EQ(d.trial.metrics.at("val_loss"), 0.55);
  ASSERT_EQ(d.epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(d.epochs[0].values.at("train_loss"), 1.2);
  EXPECT_DOUBLE_EQ(d.epochs[1].values.at("val_macro_f1"), 0.69);
  EXPECT_DOUBLE_EQ(d.epochs[1].seconds, 0.6);
  EXPECT_EQ(d.epochs[1].values.size(), 2u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"Angry", "Happy"}));
  EXPECT_EQ(d.confusion, (std::vector<int64_t>{3, 1, 2, 4}));
  ASSERT_EQ(d.per_class.size(), 2u);
  EXPECT_DOUBLE_EQ(d.per_class[1].recall, 0.6667);
  EXPECT_EQ(d.per_class[1].support, 6);
}

TEST_F(StoreTest, RankOrdersFinishedTrialsByAnyRecordedMetric) {
  Store store(path_);
  const int64_t sweep_id = store.create_sweep(sample_sweep());
  const double accuracies[] = {0.5, 0.9, 0.7};
  for (int i = 0; i < 3; ++i) {
    const int64_t id = store.add_trial(sweep_id, i, {{"i", i}}, 0);
    TrialResult r = finished_result(id);
    r.final_metrics = {{"val_accuracy", accuracies[i]}, {"val_loss", 1 - accuracies[i]}};
    store.finish_trial(r, accuracies[i]);
  }
  const int64_t failed = store.add_trial(sweep_id, 3, {{"i", 3}}, 0);
  TrialResult f;
  f.trial_id = failed;
  f.status = TrialStatus::kFailed;
  f.error = "boom";
  store.finish_trial(f, std::nullopt);

  const Reader reader(path_);
  const auto best = reader.rank(sweep_id, "val_accuracy", true, 10);
  ASSERT_EQ(best.size(), 3u);  // the failed trial is not ranked
  EXPECT_EQ(best[0].params["i"], 1);
  EXPECT_EQ(best[1].params["i"], 2);
  EXPECT_EQ(best[2].params["i"], 0);
  const auto lowest_loss = reader.rank(sweep_id, "val_loss", false, 1);
  ASSERT_EQ(lowest_loss.size(), 1u);
  EXPECT_EQ(lowest_loss[0].params["i"], 1);
  EXPECT_THROW(reader.rank(sweep_id, "no_such_metric", true, 3), InputError);
  EXPECT_EQ(reader.trial(failed).trial.error, "boom");
  EXPECT_EQ(reader.trial(failed).trial.status, TrialStatus::kFailed);
  EXPECT_THROW(reader.trial(failed + 100), InputError);
}

TEST_F(StoreTest, RejectsAFileThatIsNotSqliteAndLeavesItAlone) {
  std::ofstream(path_) << "emotion,pixels,Usage\n0,1 2 3,Training\n";
  const std::string before = file_bytes(path_);
  try {
    Store store(path_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": not a SQLite database");
  }
  EXPECT_THROW(Reader{path_}, InputError);
  EXPECT_EQ(file_bytes(path_), before);
}

TEST_F(StoreTest, RejectsANewerSchemaVersionAndLeavesItAlone) {
  { Store store(path_); }
  {
    sql::Database db(path_, false);
    db.execute("PRAGMA user_version = 99");
  }
  const std::string before = file_bytes(path_);
  try {
    Store store(path_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99 is newer"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(file_bytes(path_), before);
}

// A database as fersweep 0.1 (schema version 1) wrote it: fixed metric columns in `epochs`.
void write_version_1_database(const std::string& path) {
  sql::Database db(path, false);
  db.execute(R"sql(
    CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL, method TEXT NOT NULL,
      metric TEXT NOT NULL, goal TEXT NOT NULL, seed INTEGER NOT NULL,
      planned_trials INTEGER NOT NULL, spec_json TEXT NOT NULL, status TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT 'then', finished_at TEXT);
    CREATE TABLE trials (id INTEGER PRIMARY KEY, sweep_id INTEGER NOT NULL, number INTEGER NOT NULL,
      params_json TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL, worker_rank INTEGER,
      started_at REAL, finished_at REAL, epochs_completed INTEGER NOT NULL DEFAULT 0,
      objective REAL, wall_seconds REAL, images_per_second REAL, param_count INTEGER, error TEXT,
      UNIQUE (sweep_id, number));
    CREATE TABLE epochs (trial_id INTEGER NOT NULL, epoch INTEGER NOT NULL, train_loss REAL,
      train_accuracy REAL, val_loss REAL, val_accuracy REAL, val_macro_f1 REAL, seconds REAL,
      PRIMARY KEY (trial_id, epoch)) WITHOUT ROWID;
    CREATE TABLE trial_metrics (trial_id INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
      PRIMARY KEY (trial_id, name)) WITHOUT ROWID;
    CREATE TABLE class_reports (trial_id INTEGER NOT NULL, class_index INTEGER NOT NULL,
      name TEXT NOT NULL, precision REAL NOT NULL, recall REAL NOT NULL, f1 REAL NOT NULL,
      support INTEGER NOT NULL, PRIMARY KEY (trial_id, class_index)) WITHOUT ROWID;
    CREATE TABLE confusion (trial_id INTEGER NOT NULL, actual INTEGER NOT NULL,
      predicted INTEGER NOT NULL, count INTEGER NOT NULL,
      PRIMARY KEY (trial_id, actual, predicted)) WITHOUT ROWID;
    INSERT INTO sweeps VALUES (1, 'old', 'random', 'val_accuracy', 'maximize', 3, 1, '{}',
      'finished', 'then', NULL);
    INSERT INTO trials VALUES (1, 1, 0, '{"lr": 0.01}', 5, 'finished', 1, 0, 1, 2, 0.6, 10, 100,
      1000, NULL);
    INSERT INTO epochs VALUES (1, 1, 1.5, 0.3, 1.4, 0.35, 0.3, 4.0);
    INSERT INTO epochs VALUES (1, 2, 1.1, 0.5, 1.0, 0.6, 0.55, 3.5);
    INSERT INTO trial_metrics VALUES (1, 'val_accuracy', 0.6);
    PRAGMA user_version = 1;
  )sql");
}

TEST_F(StoreTest, ReaderPointsAnOldDatabaseToUpgradeAndLeavesItAlone) {
  write_version_1_database(path_);
  const std::string before = file_bytes(path_);
  try {
    Reader reader(path_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("schema version 1 is older than {}; "
                                                     "`fersweep results --db ",
                                                     kSchemaVersion) +
                                         path_ + " upgrade`"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(file_bytes(path_), before);
}

std::string journal_mode(const std::string& path) {
  sql::Database db(path, true);
  sql::Statement mode(db, "PRAGMA journal_mode");
  mode.step();
  return mode.text(0);
}

TEST_F(StoreTest, UpgradesVersion1KeepingEveryEpochMetric) {
  write_version_1_database(path_);
  ASSERT_EQ(journal_mode(path_), "delete");
  { Store store(path_); }
  // Upgraded, it runs in WAL mode like a new database, so readers never block the writer.
  EXPECT_EQ(journal_mode(path_), "wal");
  const Reader reader(path_);
  const TrialDetail d = reader.trial(1);
  ASSERT_EQ(d.epochs.size(), 2u);
  EXPECT_EQ(d.epochs[0].values, (std::map<std::string, double>{{"train_loss", 1.5},
                                                               {"train_accuracy", 0.3},
                                                               {"val_loss", 1.4},
                                                               {"val_accuracy", 0.35},
                                                               {"val_macro_f1", 0.3}}));
  EXPECT_DOUBLE_EQ(d.epochs[1].values.at("val_accuracy"), 0.6);
  EXPECT_DOUBLE_EQ(d.epochs[1].seconds, 3.5);
  EXPECT_DOUBLE_EQ(d.trial.metrics.at("val_accuracy"), 0.6);
  // The upgraded database takes new sweeps with the new layout.
  Store store(path_);
  const int64_t sweep = store.create_sweep(sample_sweep());
  const int64_t trial = store.add_trial(sweep, 0, nlohmann::json::object(), 1);
  store.record_epoch({trial, 1, 0.1, {{"value", 2.5}}, {}});
  EXPECT_DOUBLE_EQ(Reader(path_).trial(trial).epochs[0].values.at("value"), 2.5);
}

// Version 2 had no checkpoint column and version 3 no `interrupted` status; the upgrade adds
// both (rebuilding the trials table) and keeps every trial and every reference to it.
TEST_F(StoreTest, UpgradesVersion2AddingTheCheckpointColumnAndTheInterruptedStatus) {
  int64_t trial_id = 0;
  {
    Store store(path_);
    const int64_t sweep_id = store.create_sweep(sample_sweep());
    trial_id = store.add_trial(sweep_id, 0, {{"lr", 0.01}}, 99);
    store.start_trial(trial_id, 1);
    TrialResult r = finished_result(trial_id);
    r.checkpoint.clear();
    store.finish_trial(r, 0.7);
  }
  {
    sql::Database db(path_, false);
    // As version 2 had it: what versions 3, 5, 6 and 8 added goes (step 4 rebuilds `trials`).
    db.execute(
        "ALTER TABLE trials DROP COLUMN checkpoint; DROP TABLE trial_rungs; "
        "DROP TABLE prior_trials; DROP TABLE enqueued_configs; "
        "DROP TABLE trial_lineage; DROP INDEX trial_metrics_by_value; "
        "ALTER TABLE epochs DROP COLUMN recorded_at; "
        "PRAGMA user_version = 2");
  }
  { Store store(path_); }
  const Reader reader(path_);
  const TrialDetail d = reader.trial(trial_id);
  EXPECT_EQ(d.trial.status, TrialStatus::kFinished);
  EXPECT_EQ(d.trial.checkpoint, "");
  EXPECT_TRUE(Store(path_).trials_of(d.trial.sweep_id, {"val_accuracy"})[0].state.empty())
      << "version 5's state columns, empty for an old trial";
  EXPECT_DOUBLE_EQ(*d.trial.objective, 0.7);
  EXPECT_EQ(d.confusion, (std::vector<int64_t>{3, 1, 2, 4}));
  {
    sql::Database db(path_, true);
    sql::Statement orphans(db, "PRAGMA foreign_key_check");
    EXPECT_FALSE(orphans.step());
  }
  Store store(path_);
  const int64_t running = store.add_trial(d.trial.sweep_id, 1, {{"lr", 0.02}}, 98);
  store.start_trial(running, 2);
  store.mark_interrupted(running, "interrupted: test");
  EXPECT_EQ(Reader(path_).trial(running).trial.status, TrialStatus::kInterrupted);
  EXPECT_EQ(Reader(path_).trial(running).trial.runs, 1);
  sql::Database db(path_, false);
  EXPECT_NO_THROW(
      db.execute(fmt::format("UPDATE trials SET status = 'paused' WHERE id = {}", running)))
      << "version 5 lets a trial pause";
}

TEST_F(StoreTest, RejectsAForeignSqliteDatabase) {
  {
    sql::Database db(path_, false);
    db.execute("CREATE TABLE people (name TEXT)");
  }
  try {
    Store store(path_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a fersweep one"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, ReaderDoesNotCreateAMissingDatabase) {
  try {
    Reader reader(path_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": no such database");
  }
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(StoreTest, FailedFinishLeavesNoHalfWrittenTrial) {
  Store store(path_);
  const int64_t sweep_id = store.create_sweep(sample_sweep());
  const int64_t id = store.add_trial(sweep_id, 0, nlohmann::json::object(), 0);
  store.finish_trial(finished_result(id), 0.7);
  // Finishing the trial again (as a promoted trial does): the old result goes, the status update
  // and "aaa_new_metric" succeed, then a NaN (NULL to SQLite) violates NOT NULL. Everything must
  // roll back, the old result included.
  TrialResult again = finished_result(id);
  again.final_metrics = {{"aaa_new_metric", 1.0}, {"val_accuracy", std::nan("")}};
  EXPECT_THROW(store.finish_trial(again, 0.1), sql::SqliteError);
  const Reader reader(path_);
  const TrialDetail d = reader.trial(id);
  EXPECT_DOUBLE_EQ(*d.trial.objective, 0.7);
  EXPECT_FALSE(d.trial.metrics.contains("aaa_new_metric"));
  EXPECT_EQ(d.confusion, (std::vector<int64_t>{3, 1, 2, 4}));
}

// An epoch and the training state written after it are stored together; a trial continued from a
// state drops the epochs it recorded after that state (it trains them again) and runs again.
TEST_F(StoreTest, RecordsTrainingStateWithItsEpochAndReopensATrialAtIt) {
  Store store(path_);
  const int64_t sweep_id = store.create_sweep(sample_sweep());
  const int64_t id = store.add_trial(sweep_id, 0, {{"lr", 0.01}}, 3);
  store.start_trial(id, 1);
  const StateRef second{"/states/trial_000001.r0.e0002.state", 2, 0xF00DF00DF00DF00DULL};
  store.record_epoch({id, 1, 0.5, {{"val_accuracy", 0.4}}, {"/states/e1", 1, 11}});
  store.record_epoch({id, 2, 0.5, {{"val_accuracy", 0.5}}, second});
  store.record_epoch({id, 3, 0.5, {{"val_accuracy", 0.6}}, {}});  // no state (policy best)
  store.mark_interrupted(id, "interrupted: test", 1);             // killed while it trained epoch 4
  std::vector<StoredTrial> trials = store.trials_of(sweep_id, {"val_accuracy"});
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, second) << "the newest state, its digest intact as 64 bits";
  EXPECT_EQ(trials[0].epochs_completed, 3);

  store.reopen_trial(id, 2);
  trials = store.trials_of(sweep_id, {"val_accuracy"});
  EXPECT_EQ(trials[0].status, TrialStatus::kPending);
  EXPECT_EQ(trials[0].epochs_completed, 2);
  EXPECT_EQ(trials[0].objective_by_epoch,
            (std::vector<std::pair<int, std::vector<double>>>{{1, {0.4}}, {2, {0.5}}}));
  TrialDetail d = Reader(path_).trial(id);
  EXPECT_EQ(d.epochs.size(), 2u);
  EXPECT_EQ(d.trial.error, "");
  EXPECT_EQ(d.trial.state_path, second.path);
  EXPECT_EQ(d.trial.runs, 2);
  EXPECT_EQ(d.trial.epochs_redone, 2) << "epoch 3, stored without a state, and epoch 4 in flight";

  // Ended for good, it keeps no training state (the worker removed the file).
  store.finish_trial(finished_result(id), 0.7);
  d = Reader(path_).trial(id);
  EXPECT_EQ(d.trial.state_path, "");
  EXPECT_TRUE(store.trials_of(sweep_id, {"val_accuracy"})[0].state.empty());
  EXPECT_EQ(d.trial.runs, 2);
}

// The copy sbatch makes of a live database: consistent while the sweep writes, and never paired
// with a log left at the destination by another file.
TEST_F(StoreTest, CopyIsConsistentAndNeverMeetsAStaleWalAtTheDestination) {
  Store source(path_);  // open: its last transactions are still only in its WAL
  const int64_t sweep_id = source.create_sweep(sample_sweep());
  const int64_t trial_id = source.add_trial(sweep_id, 0, {{"lr", 0.01}}, 3);
  source.start_trial(trial_id, 1);
  source.finish_trial(finished_result(trial_id), 0.7);
  ASSERT_GT(fs::file_size(path_ + "-wal"), 0u);

  // The destination holds another database and a log with frames of its own.
  const std::string other = path_ + ".other.db", copy = path_ + ".copy.db";
  for (const auto& p : {other, copy}) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p + suffix);
  }
  Store other_store(other);
  for (int i = 0; i < 5; ++i) {
    other_store.create_sweep({"stale " + std::to_string(i), "grid", "val_loss", false, 1, 1, {}});
  }
  fs::copy_file(other, copy);
  fs::copy_file(other + "-wal", copy + "-wal");

  copy_database(path_, copy);
  EXPECT_FALSE(fs::exists(copy + "-wal")) << "the stale log must go before the copy arrives";
  EXPECT_FALSE(fs::exists(copy + ".part"));
  const Reader reader(copy);
  const auto sweeps = reader.sweeps();
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].name, "unit");
  const TrialDetail d = reader.trial(trial_id);
  EXPECT_EQ(d.trial.status, TrialStatus::kFinished);
  EXPECT_EQ(d.confusion, (std::vector<int64_t>{3, 1, 2, 4}));
  sql::Database db(copy, true);
  sql::Statement check(db, "PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
  // Not a database: an input error naming the file, and the destination untouched.
  const std::string before = file_bytes(copy);
  std::ofstream(path_ + ".garbage") << "not sqlite at all, just text that is long enough......";
  EXPECT_THROW(copy_database(path_ + ".garbage", copy), InputError);
  EXPECT_EQ(file_bytes(copy), before);
}

}  // namespace
}  // namespace fersweep::results
