#pragma once
// The sweep database's writer. Only the coordinator writes (through Store); the results CLI reads
// through results/queries.h. The schema is in results/schema.h. Each message's effects are one
// transaction, through statements prepared once per Store.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"
#include "results/schema.h"
#include "results/sqlite.h"

namespace fersweep::results {

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
  SweepStatus status = SweepStatus::kRunning;
  nlohmann::json spec;  // as written when the sweep started
};

// One trial as stored, with the objective of each epoch it reported, for rebuilding the sampler
// and the early-stopping rule after a crash.
struct StoredTrial {
  int64_t id = 0;
  int number = 0;
  nlohmann::json params;
  uint64_t seed = 0;
  TrialStatus status = TrialStatus::kPending;
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
  void finish_sweep(int64_t sweep_id, SweepStatus status);

  // Records a sampled config as a pending trial and returns its id.
  int64_t add_trial(int64_t sweep_id, int number, const nlohmann::json& params, uint64_t seed);
  void start_trial(int64_t trial_id, int worker_rank);
  void record_epoch(const EpochMetrics& epoch);
  // Final status, metrics, confusion matrix and per-class report, in one transaction.
  void finish_trial(const TrialResult& result, std::optional<double> objective);

  const std::string& path() const { return db_.path(); }

 private:
  sql::Database db_;
  // Prepared once, reused for every message (declared after db_, so finalized before it closes).
  sql::Statement insert_sweep_, finish_sweep_, reopen_sweep_, latest_sweep_;
  sql::Statement insert_trial_, start_trial_, finish_trial_, interrupt_trial_, trials_of_;
  sql::Statement insert_epoch_, insert_epoch_metric_, update_progress_, epoch_values_;
  sql::Statement insert_metric_, insert_report_, insert_cell_;
};

// Copies the database at `from` (with whatever its WAL holds) to `to` as one self-contained file,
// through SQLite's online backup: a consistent snapshot even while a sweep writes `from`. The copy
// is written under a temporary name; a stale `-wal` and `-shm` at `to` are removed before it is
// renamed into place, so no reader ever pairs the new file with an old log. InputError naming the
// file when `from` is not a fersweep database or `to` cannot be written.
void copy_database(const std::string& from, const std::string& to);

}  // namespace fersweep::results
