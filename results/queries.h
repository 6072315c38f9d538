#pragma once
// Read-only access to a sweep database for the results CLI; safe while a sweep is writing.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"
#include "results/sqlite.h"

namespace fersweep::results {

struct SweepSummary {
  int64_t id = 0;
  std::string name, method, metric, created_at;
  SweepStatus status = SweepStatus::kRunning;
  bool maximize = true;
  int64_t planned_trials = 0;
  nlohmann::json spec;
  std::map<TrialStatus, int64_t> trials_by_status;

  int64_t trials_with_status(TrialStatus status) const {
    auto it = trials_by_status.find(status);
    return it == trials_by_status.end() ? 0 : it->second;
  }
};

struct TrialSummary {
  int64_t id = 0, sweep_id = 0;
  int number = 0;
  nlohmann::json params;
  TrialStatus status = TrialStatus::kPending;
  std::string error;
  std::optional<double> objective;
  std::optional<int> worker_rank;
  int epochs_completed = 0;
  double wall_seconds = 0, images_per_second = 0;
  int64_t param_count = 0;
  std::string checkpoint;  // the best model's .json; empty when none was kept
  std::string state_path;  // its last training state; empty when none is kept
  int state_epoch = 0;
  int runs = 1;                           // its first run and each continuation
  int epochs_redone = 0;                  // trained again after an interruption
  std::map<std::string, double> metrics;  // final metrics
};

// The trial's objective at a rung of ASHA or Hyperband, and what became of it there.
struct RungRecord {
  int epoch = 0;
  double value = 0;
  RungOutcome outcome = RungOutcome::kContinued;
};

// Population Based Training: from `epoch` + 1 on the member trained with `params`, after loading
// `parent`'s training state (none: it kept its own; epoch 0: its initial config).
struct ScheduleRecord {
  int epoch = 0;
  std::optional<int64_t> parent;
  nlohmann::json params;
};

struct TrialDetail {
  TrialSummary trial;
  std::vector<RungRecord> rungs;         // in epoch order
  std::vector<ScheduleRecord> schedule;  // in epoch order; empty unless PBT
  std::vector<EpochMetrics> epochs;
  std::vector<std::string> class_names;
  std::vector<int64_t> confusion;  // row-major [actual][predicted]; empty if none stored
  std::vector<ClassMetrics> per_class;
};

class Reader {
 public:
  explicit Reader(const std::string& path);

  std::vector<SweepSummary> sweeps() const;
  // The sweep with this id, or the newest when none is given. InputError if there is none.
  SweepSummary sweep(std::optional<int64_t> id) const;
  std::vector<TrialSummary> trials(int64_t sweep_id) const;
  // Finished trials ordered by a final metric. InputError for a metric no trial recorded.
  std::vector<TrialSummary> rank(int64_t sweep_id, const std::string& metric, bool maximize,
                                 int limit) const;
  TrialDetail trial(int64_t trial_id) const;
  // Trials of a sweep matching a --where filter (results/filter.h), in trial order.
  std::vector<TrialSummary> list(int64_t sweep_id, const std::string& where) const;
  // The sweep without reading its trials (`with_counts`: and its trials counted by status, for
  // this sweep only); nothing when there is no such sweep.
  std::optional<SweepSummary> find_sweep(int64_t id, bool with_counts) const;
  // The ids of the trials matching `where` (results/filter.h; empty: all), ordered by the final
  // metric `sort_metric` (trials without it last, ties by number) or, when empty, by number: a
  // leaderboard's order, computed by the database. `parameters` and `metrics`: the sweep's
  // names, as parameter_names() and metric_names() give them.
  std::vector<int64_t> ordered_trial_ids(int64_t sweep_id, const std::string& where,
                                         const std::string& sort_metric, bool maximize,
                                         const std::vector<std::string>& parameters,
                                         const std::vector<std::string>& metrics) const;
  // These trials, in this order (ids that do not exist are left out).
  std::vector<TrialSummary> trials_by_id(const std::vector<int64_t>& ids) const;
  // Distinct worker ranks running one of the sweep's trials now.
  int64_t busy_workers(int64_t sweep_id) const;
  // Names of the final metrics, and of the parameters, that the sweep's trials recorded
  // (`finished_only`: its finished trials; a failed or infeasible one may hold only its costs).
  std::vector<std::string> metric_names(int64_t sweep_id, bool finished_only = false) const;
  std::vector<std::string> parameter_names(int64_t sweep_id) const;

 private:
  // The first column of a query over one sweep (its id bound to the single placeholder).
  std::vector<std::string> names_in_sweep(const std::string& query, int64_t sweep_id) const;
  std::vector<TrialSummary> load_trials(const std::string& where_and_order,
                                        const std::function<void(sql::Statement&)>& bind) const;
  sql::Database db_;
};

}  // namespace fersweep::results
