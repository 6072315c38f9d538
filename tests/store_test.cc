#include "results/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "results/queries.h"
#include "results/sqlite.h"

namespace fersweep::results {
namespace {

namespace fs = std::filesystem;

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TempDir() + "/store_" +
            testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
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
    store.record_epoch({trial_id, 1, 0.7, {{"train_loss", 1.2}, {"val_macro_f1", 0.45}}});
    store.record_epoch({trial_id, 2, 0.6, {{"train_loss", 0.9}, {"val_macro_f1", 0.69}}});
    store.finish_trial(finished_result(trial_id), 0.7);
    store.finish_sweep(sweep_id, "finished");
  }
  const Reader reader(path_);
  const SweepSummary sweep = reader.sweep(std::nullopt);
  EXPECT_EQ(sweep.id, sweep_id);
  EXPECT_EQ(sweep.status, "finished");
  EXPECT_EQ(sweep.trials_by_status.at("finished"), 1);
  EXPECT_EQ(sweep.spec, (nlohmann::json{{"method", "grid"}}));

  const TrialDetail d = reader.trial(trial_id);
  EXPECT_EQ(d.trial.status, "finished");
  EXPECT_EQ(d.trial.params["filters"], (nlohmann::json{8, 16}));
  EXPECT_EQ(d.trial.worker_rank, 3);
  EXPECT_EQ(d.trial.epochs_completed, 2);
  EXPECT_DOUBLE_EQ(*d.trial.objective, 0.7);
  EXPECT_EQ(d.trial.param_count, 1234);
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
  EXPECT_EQ(reader.trial(failed).trial.status, "failed");
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
  // Finishing the trial again: the status update and "aaa_new_metric" succeed, then the
  // duplicate "val_accuracy" row violates the primary key. Everything must roll back.
  TrialResult again = finished_result(id);
  again.final_metrics = {{"aaa_new_metric", 1.0}, {"val_accuracy", 0.1}};
  EXPECT_THROW(store.finish_trial(again, 0.1), sql::SqliteError);
  const Reader reader(path_);
  const TrialDetail d = reader.trial(id);
  EXPECT_DOUBLE_EQ(*d.trial.objective, 0.7);
  EXPECT_FALSE(d.trial.metrics.contains("aaa_new_metric"));
  EXPECT_EQ(d.confusion, (std::vector<int64_t>{3, 1, 2, 4}));
}

}  // namespace
}  // namespace fersweep::results
