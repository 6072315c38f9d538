#pragma once
// The sweep's state machine, independent of how trials are executed: asks the sampler for the
// next config, records every event in the store, and decides after each epoch whether a trial
// continues (early stopping, wall-time budget).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "common/random.h"
#include "common/trial.h"
#include "results/store.h"
#include "search_spaces/pruners.h"
#include "search_spaces/sampler.h"
#include "search_spaces/spec.h"

namespace fersweep::coordinator {

class SweepDriver {
 public:
  // Registers a new sweep in the store. `log` receives one line per finished trial (may be null).
  // `priors`: an earlier sweep's trials (spec warm_start), stored with the sweep as evidence and
  // told to the sampler before it suggests anything.
  SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
              const std::vector<results::PriorTrial>& priors = {});
  // Continues a stored sweep that stopped before its end (a crash, a kill, a batch system's time
  // limit): replays its trials into the sampler and the early-stopping rule, marks the trials
  // that were pending or running as interrupted and queues them again: from their last training
  // state where it was kept and is whole (the same trial), else from the start (same config and
  // seed, a new number, outside the budget); and queues the retries still owed. `forced`: the
  // spec may differ from the stored one, so the sampler need not reproduce the stored configs.
  SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
              const results::StoredSweep& stored, bool forced);

  int64_t sweep_id() const { return sweep_id_; }
  // 0 when only a wall-time budget bounds the sweep.
  uint64_t planned_trials() const { return planned_; }

  // The next trial to run, already recorded as pending: a trial to continue, a paused one earning
  // its promotion, a new config. Nothing once the budget is spent, or for now (see below).
  std::optional<TrialAssignment> next_assignment();
  // Nothing to hand out now, but a running trial may yet earn a paused one its promotion: an idle
  // worker should wait rather than leave.
  bool may_have_work_later() const;
  void trial_started(int64_t trial_id, int worker_rank);
  // Stores the epoch; kStop when the early-stopping rule or the wall-time budget says so. A trial
  // that continues hears how long its next epoch may take (ASHA's report deadline), if limited.
  EpochVerdict epoch_reported(const EpochMetrics& epoch);
  void trial_done(const TrialResult& result);
  // The worker running this trial has been silent past the progress deadline: the trial is
  // recorded as interrupted with `why` and queued again, to continue from its last training
  // state on another worker, or without one to run again (same config and seed).
  void trial_lost(int64_t trial_id, const std::string& why);
  // Spec failures.progress_deadline in seconds; 0: none.
  double progress_deadline() const { return spec_.progress_deadline; }
  void finish(SweepStatus status);

  // Once a stop signal has arrived (common/stop_signal.h) no new trial starts, running trials
  // stop at their next epoch and are recorded as interrupted, for --resume to run again.
  bool stopping() const;
  uint64_t interrupted() const { return interrupted_; }

 private:
  struct NotRegistered {};  // the sampler, the pruner and the budget, before the sweep's row
  SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log, NotRegistered);

  struct Running {
    int number = 0;
    nlohmann::json params;
    uint64_t seed = 0;
    int attempt = 0;          // 0: first run; k: k-th retry
    bool stopped = false;     // told to stop because the sweep is stopping (a signal)
    StateRef state;           // its newest training state
    int64_t continues = 0;    // queued to continue this trial (its id) from `state`; 0: a new trial
    int run = 0;              // a continuation's run of the trial
    bool at_rung = false;     // told to pause at a rung (promotion mode) or a PBT generation
    bool queued = false;      // enqueued by a user: outside the budget and the sampled seeds
    int64_t queue_entry = 0;  // its row in the queue, until it is started as a trial
    std::vector<double> last_values;            // its objectives at its newest epoch: all, or none
    double trained_seconds = 0;                 // its epochs' wall time, summed
    std::optional<double> last_value() const {  // the first objective (PBT has only one)
      return last_values.empty() ? std::nullopt : std::optional<double>(last_values.front());
    }
  };
  bool out_of_time() const;
  void resume(const results::StoredSweep& stored, bool forced);
  std::vector<std::vector<const results::StoredTrial*>> group_attempts(
      const std::vector<results::StoredTrial>& trials, bool forced);
  bool can_continue(const results::StoredTrial& trial) const;
  void tell_priors(const std::vector<results::PriorTrial>& priors);
  // The oldest config a user enqueued, completed, as a trial to start.
  std::optional<Running> from_queue();
  // The sweep's first objective among the trial's final metrics, if it reported it.
  std::optional<double> objective_of(const TrialResult& result) const;
  // Every objective, in the spec's order, looked up by `value_of`; empty when one is missing.
  std::vector<double> objectives_from(
      const std::function<std::optional<double>(const std::string&)>& value_of) const;
  std::vector<double> objectives_of(const TrialResult& result) const;
  std::vector<std::string> objective_names() const;
  EpochMetrics without_constant_costs(const EpochMetrics& epoch) const;
  // A trained trial that breaks a constraint on its metrics becomes infeasible, with its reason.
  TrialResult judged_by_constraints(const TrialResult& result) const;
  // Samplers hear of each config's end once; `violation` > 0 for an infeasible one.
  void tell_sampler(const nlohmann::json& params, TrialStatus status,
                    std::span<const double> objectives, int epochs, double violation);
  // "name=value" for each objective, for the log.
  std::string describe(std::span<const double> values) const;
  // epoch_reported's decision.
  Decision decide(const EpochMetrics& epoch);
  // The seconds the trial's next epoch may take; nothing when it may take any time.
  std::optional<double> allowance_of(const Running& run) const;
  // The early-stopping rule's word on the trial's epoch, with its rung history.
  Decision judge(Running& run, const EpochMetrics& epoch, std::span<const double> values);
  // A paused trial that earned its promotion, continued on the asking worker.
  std::optional<Running> promotion();
  // The sweep ends with trials still paused at rungs: they end `pruned`, their states removed.
  void end_paused_trials();
  // Population Based Training (docs/SPEC.md, "pbt"): a member pauses every perturbation_interval
  // epochs; once the whole population has paused at the same epoch, the bottom members load a
  // top member's state and explore its params, and all continue.
  bool pbt() const { return spec_.method == search::Method::kPbt; }
  // Where a trial waits (a rung it pauses at, a PBT generation) rather than runs on.
  bool pauses_at(int number, int epoch) const;
  void next_generation();
  // Queues the paused members `chosen` picks to continue, in trial order.
  void continue_paused_where(const std::function<bool(const Running&)>& chosen);
  void exploit(int64_t member, int64_t parent, int epoch, Rng& rng);
  // The file is there with the digest stored with its epoch; logs why not.
  bool state_is_whole(int64_t trial_id, const StateRef& state) const;
  TrialAssignment continuation(Running run);
  // A queued trial continues from its state when the file is whole, else starts over as a new
  // trial (the old one recorded interrupted).
  TrialAssignment continue_or_restart(Running run);
  // The epoch after which trial `number` is first compared (the sweep's epochs if never).
  int first_judged_at(int number) const;
  // Tells the sampler where trial `number` is first judged and where models may be fitted.
  void tell_fidelities(int number);
  // Writes what the pruner decided to the log.
  void log_notes();
  TrialAssignment start(Running run);
  TrialAssignment assignment_of(const Running& run) const;

  search::SweepSpec spec_;
  results::Store& store_;
  std::FILE* log_;
  std::unique_ptr<search::Sampler> sampler_;
  std::unique_ptr<search::Pruner> pruner_;
  std::map<int64_t, Running> running_;
  std::map<int64_t, Running> paused_;  // at a rung, waiting for a promotion (by trial id)
  std::deque<Running> retries_;        // failed trials to run again, before new configs
  std::chrono::steady_clock::time_point start_;
  int64_t sweep_id_ = 0;
  uint64_t planned_ = 0;
  uint64_t issued_ = 0;   // trial numbers handed out, retries included
  uint64_t retried_ = 0;  // of which retries, which do not count against the budget
  // Configs refused before training for breaking a constraint on their costs: not counted
  // against the budget either, up to kMaxScreened per planned trial.
  uint64_t screened_ = 0;
  // Configs taken from the queue (first attempts): outside the budget, like retries.
  uint64_t dequeued_ = 0;
  std::set<int64_t> queued_trials_;  // resuming: the stored trials that came from the queue
  uint64_t done_ = 0;
  uint64_t interrupted_ = 0;  // by a stop signal, in this run
};

}  // namespace fersweep::coordinator
