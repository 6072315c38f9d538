#include "coordinator/sweep_driver.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "common/stop_signal.h"

namespace fersweep::coordinator {

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
                         NotRegistered)
    : spec_(std::move(spec)),
      store_(store),
      log_(log),
      sampler_(search::make_sampler(spec_)),
      pruner_(search::make_pruner(spec_)),
      start_(std::chrono::steady_clock::now()),
      planned_(search::planned_trials(spec_)) {}

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log)
    : SweepDriver(std::move(spec), store, log, NotRegistered{}) {
  sweep_id_ =
      store_.create_sweep({spec_.name, search::to_string(spec_.method), spec_.objective.metric,
                           spec_.objective.maximize, spec_.seed, planned_, spec_.document});
}

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
                         const results::StoredSweep& stored, bool forced)
    : SweepDriver(std::move(spec), store, log, NotRegistered{}) {
  resume(stored, forced);
}

void SweepDriver::resume(const results::StoredSweep& stored, bool forced) {
  sweep_id_ = stored.id;
  const std::vector<results::StoredTrial> trials =
      store_.trials_of(stored.id, spec_.objective.metric);
  // The attempts of one config share its seed; its first attempt, the sampler's suggestion, has
  // seed mix_seed(sweep seed, number), as next_assignment() gives it.
  std::vector<std::vector<const results::StoredTrial*>> configs;
  std::map<uint64_t, size_t> config_of_seed;
  for (const results::StoredTrial& t : trials) {
    const bool terminal = is_judged(t.status);
    if (t.seed == mix_seed(spec_.seed, static_cast<uint64_t>(t.number))) {
      if (!sampler_->replay(t.params) && !forced) {
        throw InputError(fmt::format(
            "{}: sweep {} does not replay: its trial #{} ({}) is not what this fersweep's sampler "
            "suggests there; resume with --force to continue anyway",
            store_.path(), stored.id, t.number, t.params.dump()));
      }
      config_of_seed[t.seed] = configs.size();
      configs.emplace_back();
    } else {
      ++retried_;
    }
    const auto config = config_of_seed.find(t.seed);
    if (config == config_of_seed.end()) {
      throw InputError(fmt::format("{}: sweep {}: trial #{} repeats no earlier config",
                                   store_.path(), stored.id, t.number));
    }
    configs[config->second].push_back(&t);
    if (!terminal) continue;  // an interrupted run's epochs would count twice once it re-runs
    for (const auto& [epoch, value] : t.objective_by_epoch) {
      pruner_->should_stop(t.number, epoch, value);
    }
    pruner_->trial_ended(t.number, t.status == TrialStatus::kFinished);
  }
  issued_ = trials.empty() ? 0 : static_cast<uint64_t>(trials.back().number) + 1;

  for (const auto& attempts : configs) {
    const results::StoredTrial& last = *attempts.back();
    const auto failures =
        static_cast<int>(std::count_if(attempts.begin(), attempts.end(), [](const auto* t) {
          return t->status == TrialStatus::kFailed;
        }));
    Running again{0, last.params, last.seed, failures};
    if (last.status == TrialStatus::kPending || last.status == TrialStatus::kRunning) {
      store_.mark_interrupted(last.id,
                              "interrupted: the sweep stopped while this trial ran; --resume "
                              "runs it again as a new trial");
      retries_.push_back(std::move(again));
    } else if (last.status == TrialStatus::kInterrupted ||
               (last.status == TrialStatus::kFailed && failures <= spec_.retries)) {
      retries_.push_back(std::move(again));
    } else {
      sampler_->tell(last.params, last.status, last.objective, last.epochs_completed);
      ++done_;
    }
  }
  store_.reopen_sweep(stored.id);
  if (log_) {
    fmt::print(log_, "resuming sweep {}: {} of {} configs done, {} to run again\n", stored.id,
               done_, configs.size(), retries_.size());
    std::fflush(log_);
  }
}

bool SweepDriver::out_of_time() const {
  if (!spec_.budget.wall_seconds) return false;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed >= *spec_.budget.wall_seconds;
}

bool SweepDriver::stopping() const {
  return stop_signal() != 0;
}

std::optional<TrialAssignment> SweepDriver::next_assignment() {
  if (out_of_time() || stopping()) return std::nullopt;
  Running run;
  if (!retries_.empty()) {
    run = std::move(retries_.front());
    retries_.pop_front();
    ++retried_;
  } else {
    if (planned_ > 0 && issued_ - retried_ >= planned_) return std::nullopt;
    std::optional<nlohmann::json> params = sampler_->ask();
    if (!params) return std::nullopt;
    run.params = std::move(*params);
    run.seed = mix_seed(spec_.seed, issued_);
  }
  // A retry gets a number of its own (numbers are unique in a sweep) and keeps its config's seed.
  run.number = static_cast<int>(issued_++);
  TrialAssignment assignment;
  assignment.number = run.number;
  assignment.params = run.params;
  assignment.epochs = spec_.epochs;
  assignment.seed = run.seed;
  assignment.data = spec_.data;
  assignment.threads = spec_.threads_per_worker;
  assignment.memory_gb = spec_.memory_gb;
  assignment.checkpoint_dir = spec_.checkpoint_dir;
  assignment.objective_metric = spec_.objective.metric;
  assignment.maximize = spec_.objective.maximize;
  assignment.benchmark = spec_.benchmark;
  assignment.time_limit_seconds = spec_.trial_time_limit;
  assignment.bucket_mb = spec_.bucket_mb;
  assignment.precision = spec_.precision;
  assignment.trial_id =
      store_.add_trial(sweep_id_, assignment.number, assignment.params, assignment.seed);
  running_[assignment.trial_id] = std::move(run);
  return assignment;
}

void SweepDriver::trial_started(int64_t trial_id, int worker_rank) {
  store_.start_trial(trial_id, worker_rank);
}

Decision SweepDriver::epoch_reported(const EpochMetrics& epoch) {
  store_.record_epoch(epoch);
  if (out_of_time()) return Decision::kStop;
  auto trial = running_.find(epoch.trial_id);
  if (stopping() && trial != running_.end() && epoch.epoch < spec_.epochs) {
    trial->second.stopped = true;
    return Decision::kStop;
  }
  const std::optional<double> value = epoch.value(spec_.objective.metric);
  if (trial == running_.end() || !value) return Decision::kContinue;
  if (epoch.epoch >= spec_.epochs) return Decision::kContinue;  // nothing left to save
  return pruner_->should_stop(trial->second.number, epoch.epoch, *value) ? Decision::kStop
                                                                         : Decision::kContinue;
}

void SweepDriver::trial_done(const TrialResult& result) {
  if (auto trial = running_.find(result.trial_id);
      trial != running_.end() && trial->second.stopped && result.status == TrialStatus::kPruned) {
    // Cut short by the stop, not judged: neither the sampler nor the pruner hears of it.
    store_.mark_interrupted(result.trial_id,
                            fmt::format("interrupted by signal {} after epoch {}; --resume runs "
                                        "it again as a new trial",
                                        stop_signal(), result.epochs_completed));
    running_.erase(trial);
    ++interrupted_;
    if (log_) {
      fmt::print(log_, "trial {} interrupted after epoch {}\n", result.trial_id,
                 result.epochs_completed);
      std::fflush(log_);
    }
    return;
  }
  std::optional<double> objective;
  if (auto it = result.final_metrics.find(spec_.objective.metric);
      it != result.final_metrics.end()) {
    objective = it->second;
  }
  store_.finish_trial(result, objective);
  bool retrying = false;
  if (auto trial = running_.find(result.trial_id); trial != running_.end()) {
    pruner_->trial_ended(trial->second.number, result.status == TrialStatus::kFinished);
    // Only a config's last attempt reaches the sampler, so a transient failure does not steer it.
    retrying = result.status == TrialStatus::kFailed && trial->second.attempt < spec_.retries;
    if (retrying) {
      Running again = trial->second;
      ++again.attempt;
      retries_.push_back(std::move(again));
    } else {
      sampler_->tell(trial->second.params, result.status, objective, result.epochs_completed);
    }
    running_.erase(trial);
  }
  if (!retrying) ++done_;
  if (log_) {
    std::string outcome;
    if (result.status == TrialStatus::kFailed) {
      outcome = "failed: " + result.error + (retrying ? " (will retry)" : "");
    } else {
      outcome = fmt::format("{} {}={:.4f}", to_string(result.status), spec_.objective.metric,
                            objective.value_or(NAN));
      if (result.status == TrialStatus::kPruned) {
        outcome += fmt::format(" at epoch {}", result.epochs_completed);
      }
      outcome += fmt::format(" in {:.1f} s", result.wall_seconds);
    }
    const std::string progress =
        planned_ > 0 ? fmt::format("{}/{}", done_, planned_) : fmt::format("{}", done_);
    fmt::print(log_, "[{}] trial {} {}\n", progress, result.trial_id, outcome);
    std::fflush(log_);
  }
}

void SweepDriver::trial_lost(int64_t trial_id, const std::string& why) {
  auto trial = running_.find(trial_id);
  if (trial == running_.end()) return;
  store_.mark_interrupted(trial_id, why);
  retries_.push_front(trial->second);  // first in line: it was handed out before the rest
  running_.erase(trial);
  if (log_) {
    fmt::print(log_, "trial {} lost: {}\n", trial_id, why);
    std::fflush(log_);
  }
}

void SweepDriver::finish(SweepStatus status) {
  store_.finish_sweep(sweep_id_, status);
}

}  // namespace fersweep::coordinator
