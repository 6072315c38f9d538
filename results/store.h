#pragma once
// The sweep database. Only the coordinator writes (through Store); the results CLI reads through
// results/queries.h. Schema (version kSchemaVersion, kept in PRAGMA user_version):
//
//   sweeps(id, name, method, metric, goal, seed, planned_trials, spec_json, status, created_at,
//          finished_at)
//   trials(id, sweep_id, number, params_json, seed, status, worker_rank, started_at, finished_at,
//          epochs_completed, objective, wall_seconds, images_per_second, param_count, error,
//          checkpoint)   -- status: pending, running, finished, pruned, failed, interrupted
//   epochs(trial_id, epoch, seconds)
//   epoch_metrics(trial_id, epoch, name, value)   -- e.g. val_accuracy of each epoch
//   trial_metrics(trial_id, name, value)          -- final metrics, rankable by name
//   class_reports(trial_id, class_index, name, precision, recall, f1, support)
//   confusion(trial_id, actual, predicted, count) -- validation confusion matrix cells
//
// The database runs in WAL mode so readers never block the writer; each message's effects are one
// transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"
#include "results/sqlite.h"

namespace fersweep::results {

inline constexpr int kSchemaVersion = 4;

// Opens a fersweep database, creating it when writable and new. Throws InputError (naming the
// file) for a missing file in read-only mode, a file that is not SQLite, a SQLite file that is not
// fersweep's, or a schema version newer than this binary knows. Never modifies such a file.
// Upgrades an older schema in place when writable, in one transaction.
sql::Database open_database(const std::string& path, bool read_only);

struct NewSweep {
  std::string name;
  std::string method;
  std::string metric;
  bool maximize = true;
  uint64_t seed = 0;
  uint64_t planned_trials = 0;
  nlohmann::json spec;
};

// A sweep as stored, for resuming it.
struct StoredSweep {
  int64_t id = 0;
  std::string status;
  nlohmann::json spec;  // as written when the sweep started
};

// One trial as stored, with the objective of each epoch it reported, for rebuilding the sampler
// and the early-stopping rule after a crash.
struct StoredTrial {
  int64_t id = 0;
  int number = 0;
  nlohmann::json params;
  uint64_t seed = 0;
  std::string status;  // pending, running, finished, pruned, failed or interrupted
  std::optional<double> objective;
  int epochs_completed = 0;
  std::vector<std::pair<int, double>> objective_by_epoch;  // (epoch, value), in epoch order
};

class Store {
 public:
  explicit Store(const std::string& path);

  // The newest sweep named `name`, if any.
  std::optional<StoredSweep> latest_sweep_named(const std::string& name);
  // Every trial of the sweep by number; `metric` picks the per-epoch values.
  std::vector<StoredTrial> trials_of(int64_t sweep_id, const std::string& metric);
  // A trial that was pending or running when its sweep stopped: kept with its epochs, marked
  // `interrupted` with `why`, never counted as finished.
  void mark_interrupted(int64_t trial_id, const std::string& why);
  // A resumed sweep runs again.
  void reopen_sweep(int64_t sweep_id);

  int64_t create_sweep(const NewSweep& sweep);
  void finish_sweep(int64_t sweep_id, const std::string& status);

  // Records a sampled config as a pending trial and returns its id.
  int64_t add_trial(int64_t sweep_id, int number, const nlohmann::json& params, uint64_t seed);
  void start_trial(int64_t trial_id, int worker_rank);
  void record_epoch(const EpochMetrics& epoch);
  // Final status, metrics, confusion matrix and per-class report, in one transaction.
  void finish_trial(const TrialResult& result, std::optional<double> objective);

  const std::string& path() const { return db_.path(); }

 private:
  sql::Database db_;
};

}  // namespace fersweep::results
