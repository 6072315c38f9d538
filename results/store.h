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
  StateRef state;  // its last training state, if it kept one
  // The params it trains with now: `params` unless PBT changed them (trial_lineage).
  nlohmann::json current_params;
  int schedule_epoch = 0;  // the epoch of its newest lineage row: its last PBT exploit
  // (epoch, objectives in the spec's order), in epoch order; only epochs that recorded them all.
  std::vector<std::pair<int, std::vector<double>>> objective_by_epoch;
  std::vector<std::pair<int, double>> seconds_by_epoch;  // (epoch, its wall time), in epoch order
  // Its epochs' wall time, summed up to `epoch`.
  double seconds_up_to(int epoch) const;
  // Its stored final value of each objective; empty when one is missing.
  std::vector<double> objectives;
  double violation = 0;  // infeasible: by how much it broke the sweep's constraints
};

// An earlier sweep's trial offered to a new sweep's sampler (spec warm_start): prior evidence,
// never a trial of the new sweep.
struct PriorTrial {
  std::string source;  // "old.db: sweep 3, trial #17"
  nlohmann::json params;
  TrialStatus status = TrialStatus::kFinished;  // finished, pruned or infeasible
  std::vector<double> objectives;               // in the new sweep's objective order
  int epochs = 0;
  double violation = 0;
};

// A config a user enqueued for a sweep (`fersweep run --enqueue`), not yet started.
struct QueuedConfig {
  int64_t id = 0;
  nlohmann::json params;  // may be partial: the coordinator completes it
};

class Store {
 public:
  explicit Store(const std::string& path);

  // The newest sweep named `name`, if any.
  std::optional<StoredSweep> latest_sweep_named(const std::string& name);
  // Every trial of the sweep by number; `metric` picks the per-epoch values.
  std::vector<StoredTrial> trials_of(int64_t sweep_id, const std::vector<std::string>& objectives);
  // A trial that was pending or running when its sweep stopped: kept with its epochs, marked
  // `interrupted` with `why`, never counted as finished.
  // `epochs_in_flight`: the epoch it was training when it stopped, if it will continue and train
  // that epoch again; counted in its `epochs_redone`.
  void mark_interrupted(int64_t trial_id, const std::string& why, int epochs_in_flight = 0);
  // A resumed sweep runs again.
  void reopen_sweep(int64_t sweep_id);
  // An interrupted or paused trial continues from its training state after `epoch`: pending
  // again, one run more, and any epoch (and rung) it recorded after that state is dropped and
  // counted as redone.
  void reopen_trial(int64_t trial_id, int epoch);
  // Waits at a rung for its promotion (a trial killed as it paused there); keeps its state.
  void mark_paused(int64_t trial_id);
  // A paused trial that was never promoted ends: `pruned`, its result the one it paused with.
  void end_paused(int64_t trial_id);
  // The trial's objective at a rung of ASHA or Hyperband, and what became of it there.
  void record_rung(int64_t trial_id, int epoch, double value, RungOutcome outcome);
  void set_rung_outcome(int64_t trial_id, int epoch, RungOutcome outcome);

  // Population Based Training: from `epoch` + 1 on the trial trains with `params`, having loaded
  // `parent`'s training state (its own when none; epoch 0: the initial config). A new state, if
  // given, becomes the trial's in the same transaction.
  void record_schedule(int64_t trial_id, int epoch, std::optional<int64_t> parent,
                       const nlohmann::json& params, const std::optional<StateRef>& state);

  int64_t create_sweep(const NewSweep& sweep);
  void finish_sweep(int64_t sweep_id, SweepStatus status);

  // Records a config as a pending trial and returns its id; `queued_id`: the enqueued config it
  // comes from, marked started in the same transaction (so that it never runs twice).
  int64_t add_trial(int64_t sweep_id, int number, const nlohmann::json& params, uint64_t seed,
                    std::optional<int64_t> queued_id = std::nullopt);
  void start_trial(int64_t trial_id, int worker_rank);
  // With the epoch's training state, if it has one, in the same transaction.
  void record_epoch(const EpochMetrics& epoch);
  // Final status, metrics, confusion matrix and per-class report, in one transaction, replacing
  // any it paused with. A trial that ended forgets its training state (the worker removed the
  // file); a paused one (status kPaused) keeps it.
  void finish_trial(const TrialResult& result, std::optional<double> objective);

  // Warm-start evidence, in one transaction, and read back (in order) when the sweep resumes.
  void add_prior_trials(int64_t sweep_id, const std::vector<PriorTrial>& trials);
  std::vector<PriorTrial> prior_trials_of(int64_t sweep_id);

  // Appends configs to the sweep's queue, in one transaction; a running coordinator takes them
  // before its next sampled config.
  void enqueue(int64_t sweep_id, const std::vector<nlohmann::json>& configs);
  // The oldest enqueued config not started yet.
  std::optional<QueuedConfig> next_queued(int64_t sweep_id);
  // The trials started from the queue, by id.
  std::vector<int64_t> trials_from_queue(int64_t sweep_id);

  const std::string& path() const { return db_.path(); }

 private:
  // The trial's newest training state, inside the caller's transaction.
  void record_state(int64_t trial_id, const StateRef& state);

  sql::Database db_;
  // Prepared once, reused for every message (declared after db_, so finalized before it closes).
  sql::Statement insert_sweep_, finish_sweep_, reopen_sweep_, latest_sweep_;
  sql::Statement insert_trial_, start_trial_, finish_trial_, interrupt_trial_, trials_of_;
  sql::Statement insert_epoch_, insert_epoch_metric_, update_progress_, epoch_values_, final_value_;
  sql::Statement epoch_seconds_;
  sql::Statement record_state_, reopen_trial_, drop_epoch_metrics_, drop_epochs_;
  sql::Statement mark_paused_, end_paused_, drop_metrics_, drop_report_, drop_cells_;
  sql::Statement record_rung_, set_rung_outcome_, drop_rungs_, insert_lineage_, drop_lineage_;
  sql::Statement insert_metric_, insert_report_, insert_cell_;
  sql::Statement insert_prior_, priors_of_, insert_queued_, next_queued_, dequeue_, from_queue_;
};

// Copies the database at `from` (with whatever its WAL holds) to `to` as one self-contained file,
// through SQLite's online backup: a consistent snapshot even while a sweep writes `from`. The copy
// is written under a temporary name; a stale `-wal` and `-shm` at `to` are removed before it is
// renamed into place, so no reader ever pairs the new file with an old log. InputError naming the
// file when `from` is not a fersweep database or `to` cannot be written.
void copy_database(const std::string& from, const std::string& to);

}  // namespace fersweep::results
