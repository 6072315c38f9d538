#include "coordinator/sweep_driver.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "common/state_files.h"
#include "common/stop_signal.h"
#include "search_spaces/known_configs.h"

namespace fersweep::coordinator {
namespace {

// A sweep whose constraints refuse this many configs per planned trial before training stops
// sampling: its space hardly meets them.
constexpr uint64_t kMaxScreenedPerTrial = 100;

}  // namespace

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
                         NotRegistered)
    : spec_(std::move(spec)),
      store_(store),
      log_(log),
      sampler_(search::make_sampler(spec_)),
      pruner_(search::make_pruner(spec_)),
      start_(std::chrono::steady_clock::now()),
      planned_(search::planned_trials(spec_)) {}

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
                         const std::vector<results::PriorTrial>& priors)
    : SweepDriver(std::move(spec), store, log, NotRegistered{}) {
  sweep_id_ =
      store_.create_sweep({spec_.name, search::to_string(spec_.method), spec_.objective.metric,
                           spec_.objective.maximize, spec_.seed, planned_, spec_.document});
  if (!priors.empty()) store_.add_prior_trials(sweep_id_, priors);
  tell_priors(priors);
}

void SweepDriver::tell_priors(const std::vector<results::PriorTrial>& priors) {
  for (const results::PriorTrial& prior : priors) {
    tell_sampler(prior.params, prior.status, prior.objectives, prior.epochs, prior.violation);
  }
}

std::optional<SweepDriver::Running> SweepDriver::from_queue() {
  std::optional<results::QueuedConfig> queued = store_.next_queued(sweep_id_);
  if (!queued) return std::nullopt;
  // A seed of its own, so that the sampled configs keep theirs whatever was enqueued between.
  Rng rng(mix_seed(spec_.seed, 0xE9DE0 + static_cast<uint64_t>(queued->id)));
  Running run;
  run.params = search::completed(spec_.parameters, queued->params, rng);
  run.seed = rng();
  run.queued = true;
  run.queue_entry = queued->id;
  ++dequeued_;
  if (log_) {
    fmt::print(log_, "enqueued config {} starts: {}\n", queued->id, run.params.dump());
    std::fflush(log_);
  }
  return run;
}

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log,
                         const results::StoredSweep& stored, bool forced)
    : SweepDriver(std::move(spec), store, log, NotRegistered{}) {
  resume(stored, forced);
}

std::vector<std::vector<const results::StoredTrial*>> SweepDriver::group_attempts(
    const std::vector<results::StoredTrial>& trials, bool forced) {
  // The attempts of one config share its seed and params; the first trial with them is the
  // config's first attempt, the sampler's suggestion.
  std::vector<std::vector<const results::StoredTrial*>> configs;
  std::map<std::pair<uint64_t, std::string>, size_t> config_of;
  for (const results::StoredTrial& t : trials) {
    const std::pair<uint64_t, std::string> key{t.seed, t.params.dump()};
    if (!config_of.contains(key)) {
      if (queued_trials_.contains(t.id)) {
        ++dequeued_;  // a user's config: the sampler never suggested it
      } else {
        tell_fidelities(t.number);
        if (!sampler_->replay(t.params) && !forced) {
          throw InputError(fmt::format(
              "{}: sweep {} does not replay: its trial #{} ({}) is not what this fersweep's "
              "sampler suggests there; resume with --force to continue anyway",
              store_.path(), sweep_id_, t.number, t.params.dump()));
        }
      }
      config_of[key] = configs.size();
      configs.emplace_back();
    } else {
      ++retried_;
    }
    configs[config_of.at(key)].push_back(&t);
  }
  return configs;
}

// A trial the sweep left unjudged continues from its training state when the file is there,
// whole: the digest it had when its epoch was stored.
bool SweepDriver::can_continue(const results::StoredTrial& t) const {
  return !is_judged(t.status) && !t.state.empty() && state_is_whole(t.id, t.state);
}

bool SweepDriver::state_is_whole(int64_t trial_id, const StateRef& state) const {
  const std::optional<uint64_t> digest = file_digest(state.path);
  if (digest == state.digest) return true;
  if (log_) {
    fmt::print(log_, "trial {}: its training state {} is {}; it runs again from the start\n",
               trial_id, state.path, digest ? "damaged" : "missing");
    std::fflush(log_);
  }
  return false;
}

void SweepDriver::resume(const results::StoredSweep& stored, bool forced) {
  sweep_id_ = stored.id;
  tell_priors(store_.prior_trials_of(stored.id));
  for (int64_t id : store_.trials_from_queue(stored.id)) queued_trials_.insert(id);
  const std::vector<results::StoredTrial> trials = store_.trials_of(stored.id, objective_names());
  const auto configs = group_attempts(trials, forced);
  std::set<int64_t> continuing;
  for (const results::StoredTrial& t : trials) {
    // A trial run again from the start reports its epochs again; one that continues reports only
    // those after its state.
    const bool judged = is_judged(t.status);
    if (!judged && !(can_continue(t) && continuing.insert(t.id).second)) continue;
    const int trained = judged ? t.epochs_completed : t.state.epoch;
    for (const auto& [epoch, values] : t.objective_by_epoch) {
      if (epoch > trained) continue;  // trained again after the resume
      pruner_->trained_for(t.number, t.seconds_up_to(epoch));
      if (epoch < spec_.epochs) {
        pruner_->should_stop(t.number, epoch, values);
        sampler_->tell_intermediate(t.current_params, epoch, values);
      }
    }
    pruner_->trained_past(t.number, trained);
    if (judged) {
      pruner_->trial_ended(t.number, t.status == TrialStatus::kFinished, t.objectives);
    }
    log_notes();
  }
  issued_ = trials.empty() ? 0 : static_cast<uint64_t>(trials.back().number) + 1;
  // What a kill left of trials that will not continue (a state written, its epoch not stored).
  std::set<int64_t> done_with_state;
  for (const results::StoredTrial& t : trials) {
    if (!continuing.contains(t.id)) done_with_state.insert(t.id);
  }
  if (!spec_.state_dir.empty()) remove_trial_states(spec_.state_dir, done_with_state);

  for (const auto& attempts : configs) {
    const results::StoredTrial& last = *attempts.back();
    const auto failures =
        static_cast<int>(std::count_if(attempts.begin(), attempts.end(), [](const auto* t) {
          return t->status == TrialStatus::kFailed;
        }));
    Running again;
    again.params = last.current_params;
    again.seed = last.seed;
    again.attempt = failures;
    again.queued = queued_trials_.contains(attempts.front()->id);
    if (continuing.contains(last.id)) {
      again.number = last.number;
      again.continues = last.id;
      again.state = last.state;
      again.run = 1;  // the runs before this one named their files r0; a continuation r1 and on
      again.trained_seconds = last.seconds_up_to(last.state.epoch);
      if (auto at = std::find_if(last.objective_by_epoch.begin(), last.objective_by_epoch.end(),
                                 [&](const auto& e) { return e.first == last.state.epoch; });
          at != last.objective_by_epoch.end()) {
        again.last_values = at->second;
      }
    }
    // Promotion mode: a trial stopped at a rung (paused, or killed before it could pause there)
    // waits there again for its promotion; a PBT member, for its generation.
    const bool waits_at_rung = again.continues && pauses_at(last.number, last.state.epoch);
    if (last.status == TrialStatus::kPaused || waits_at_rung) {
      if (again.continues) {
        if (last.status != TrialStatus::kPaused) store_.mark_paused(last.id);
        sampler_->tell_paused(last.params, again.last_values, last.state.epoch);
        paused_[last.id] = std::move(again);
      } else {  // its state is gone: it ends where it paused
        store_.end_paused(last.id);
        sampler_->tell(last.params, TrialStatus::kPruned, std::span<const double>(last.objectives),
                       last.epochs_completed);
        ++done_;
      }
    } else if (last.status == TrialStatus::kPending || last.status == TrialStatus::kRunning) {
      store_.mark_interrupted(
          last.id,
          again.continues ? fmt::format("interrupted: the sweep stopped while this trial "
                                        "ran; --resume continues it after epoch {}",
                                        last.state.epoch)
                          : std::string("interrupted: the sweep stopped while this "
                                        "trial ran; --resume runs it again as a new "
                                        "trial"),
          // None was in flight after its last epoch.
          again.continues && last.status == TrialStatus::kRunning && last.state.epoch < spec_.epochs
              ? 1
              : 0);
      retries_.push_back(std::move(again));
    } else if (last.status == TrialStatus::kInterrupted ||
               (last.status == TrialStatus::kFailed && failures <= spec_.retries)) {
      retries_.push_back(std::move(again));
    } else {
      tell_sampler(last.params, last.status, last.objectives, last.epochs_completed,
                   last.violation);
      const bool screened = last.status == TrialStatus::kInfeasible && last.epochs_completed == 0;
      if (!(screened && again.queued)) ++(screened ? screened_ : done_);
    }
  }
  // A PBT generation recorded before the stop is not run again: its members continue.
  if (pbt()) {
    int generation = 0;
    for (const results::StoredTrial& t : trials)
      generation = std::max(generation, t.schedule_epoch);
    if (generation > 0) {
      continue_paused_where(
          [&](const Running& member) { return member.state.epoch == generation; });
    }
  }
  store_.reopen_sweep(stored.id);
  if (log_) {
    fmt::print(log_,
               "resuming sweep {}: {} of {} configs done, {} to run again ({} from their last "
               "epoch), {} paused at a rung\n",
               stored.id, done_, configs.size(), retries_.size(),
               continuing.size() - paused_.size(), paused_.size());
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
  // The whole population has paused: the next generation, whose members are then queued.
  if (pbt() && retries_.empty() && issued_ - retried_ >= planned_ && running_.empty() &&
      !paused_.empty()) {
    next_generation();
  }
  if (!retries_.empty()) {
    Running run = std::move(retries_.front());
    retries_.pop_front();
    return continue_or_restart(std::move(run));
  }
  if (std::optional<Running> promoted = promotion()) {
    return continue_or_restart(std::move(*promoted));
  }
  if (std::optional<Running> queued = from_queue()) return start(std::move(*queued));
  std::optional<nlohmann::json> params;
  const bool screened_enough = planned_ > 0 && screened_ >= kMaxScreenedPerTrial * planned_;
  const uint64_t sampled = issued_ - retried_ - dequeued_;
  if (!screened_enough && (planned_ == 0 || sampled - screened_ < planned_)) {
    tell_fidelities(static_cast<int>(issued_));  // start()'s number
    params = sampler_->ask();
  }
  if (!params) {
    if (running_.empty()) end_paused_trials();  // nothing left could earn them a promotion
    return std::nullopt;
  }
  Running run;
  run.params = std::move(*params);
  // The config's place among the suggestions, not its number: a retry or a re-run before it
  // takes a number but must not change its seed, so an interrupted sweep trains what an
  // uninterrupted one would.
  run.seed = mix_seed(spec_.seed, sampled);
  return start(std::move(run));
}

int SweepDriver::first_judged_at(int number) const {
  return pruner_->first_judged_at(number).value_or(spec_.epochs);
}

void SweepDriver::log_notes() {
  for (const std::string& note : pruner_->take_notes()) {
    if (!log_) continue;
    fmt::print(log_, "{}\n", note);
    std::fflush(log_);
  }
}

void SweepDriver::tell_fidelities(int number) {
  sampler_->model_fidelities(pruner_->model_fidelities());
  sampler_->next_judged_at(first_judged_at(number));
}

bool SweepDriver::may_have_work_later() const {
  return !paused_.empty() && !running_.empty() && !out_of_time() && !stopping();
}

std::optional<SweepDriver::Running> SweepDriver::promotion() {
  if (paused_.empty()) return std::nullopt;
  std::map<int, int64_t> paused_by_number;
  for (const auto& [id, run] : paused_) paused_by_number[run.number] = id;
  const std::optional<int> number =
      pruner_->promote([&](int n) { return paused_by_number.contains(n); });
  if (!number) return std::nullopt;
  const int64_t id = paused_by_number.at(*number);
  Running run = std::move(paused_.at(id));
  paused_.erase(id);
  store_.set_rung_outcome(id, run.state.epoch, RungOutcome::kPromoted);
  if (log_) {
    fmt::print(log_, "trial {} promoted from epoch {}\n", id, run.state.epoch);
    std::fflush(log_);
  }
  return run;
}

// Checked here, when it is handed out: a lost worker's trial was queued without a look at its
// file, and a paused one's may have gone while it waited.
TrialAssignment SweepDriver::continue_or_restart(Running run) {
  if (run.continues && state_is_whole(run.continues, run.state)) {
    return continuation(std::move(run));
  }
  if (run.continues) {
    store_.mark_interrupted(run.continues,
                            fmt::format("its training state after epoch {} is missing or "
                                        "damaged; it runs again from the start as a new trial",
                                        run.state.epoch));
  }
  run.continues = 0;  // from the start, as a new trial with its config's seed
  run.state = {};
  run.run = 0;
  run.last_values.clear();
  run.trained_seconds = 0;  // rungs in seconds count the new trial's training only
  ++retried_;
  return start(std::move(run));
}

// A retry gets a number of its own (numbers are unique in a sweep) and keeps its config's seed.
TrialAssignment SweepDriver::start(Running run) {
  run.number = static_cast<int>(issued_++);
  TrialAssignment assignment = assignment_of(run);
  assignment.trial_id =
      store_.add_trial(sweep_id_, assignment.number, assignment.params, assignment.seed,
                       run.queue_entry ? std::optional<int64_t>(run.queue_entry) : std::nullopt);
  run.queue_entry = 0;
  if (pbt()) store_.record_schedule(assignment.trial_id, 0, std::nullopt, run.params, std::nullopt);
  running_[assignment.trial_id] = std::move(run);
  return assignment;
}

void SweepDriver::end_paused_trials() {
  std::set<int64_t> ended;
  for (auto& [id, run] : paused_) {
    store_.end_paused(id);
    store_.set_rung_outcome(id, run.state.epoch, RungOutcome::kStopped);
    pruner_->trial_ended(run.number, false, {});
    sampler_->tell(run.params, TrialStatus::kPruned, std::span<const double>(run.last_values),
                   run.state.epoch);
    ++done_;
    ended.insert(id);
    if (log_) {
      fmt::print(log_, "trial {} ends at epoch {}: {}\n", id, run.state.epoch,
                 pbt() ? "the sweep ended between generations" : "never promoted");
    }
  }
  paused_.clear();
  if (!spec_.state_dir.empty()) remove_trial_states(spec_.state_dir, ended);
}

// The same trial, its number and its row, picked up after the epoch of its training state.
TrialAssignment SweepDriver::continuation(Running run) {
  TrialAssignment assignment = assignment_of(run);
  assignment.trial_id = run.continues;
  assignment.run = run.run;
  assignment.resume = run.state;
  store_.reopen_trial(run.continues, run.state.epoch);
  if (log_) {
    fmt::print(log_, "trial {} continues after epoch {}\n", run.continues, run.state.epoch);
    std::fflush(log_);
  }
  running_[run.continues] = std::move(run);
  return assignment;
}

TrialAssignment SweepDriver::assignment_of(const Running& run) const {
  TrialAssignment assignment;
  assignment.number = run.number;
  assignment.params = run.params;
  assignment.epochs = spec_.epochs;
  assignment.seed = run.seed;
  assignment.data = spec_.data;
  assignment.threads = spec_.threads_per_worker;
  assignment.memory_gb = spec_.memory_gb;
  if (spec_.checkpoints != search::CheckpointPolicy::kNone) {
    assignment.checkpoint_dir = spec_.checkpoint_dir;
  }
  if (spec_.checkpoints == search::CheckpointPolicy::kEveryEpoch) {
    assignment.state_dir = spec_.state_dir;
  }
  assignment.objective_metric = spec_.objective.metric;
  assignment.maximize = spec_.objective.maximize;
  assignment.benchmark = spec_.benchmark;
  assignment.time_limit_seconds = spec_.trial_time_limit;
  assignment.report_allowance_seconds = allowance_of(run).value_or(0);
  assignment.bucket_mb = spec_.bucket_mb;
  assignment.precision = spec_.precision;
  assignment.constraints = spec_.constraints;
  assignment.cost_request = spec_.costs;
  return assignment;
}

void SweepDriver::trial_started(int64_t trial_id, int worker_rank) {
  store_.start_trial(trial_id, worker_rank);
}

EpochVerdict SweepDriver::epoch_reported(const EpochMetrics& epoch) {
  const Decision decision = decide(epoch);
  if (decision != Decision::kContinue) return decision;
  const auto trial = running_.find(epoch.trial_id);
  if (trial == running_.end()) return decision;
  return EpochVerdict(decision, allowance_of(trial->second).value_or(0));
}

Decision SweepDriver::decide(const EpochMetrics& epoch) {
  store_.record_epoch(without_constant_costs(epoch));
  auto trial = running_.find(epoch.trial_id);
  if (trial != running_.end()) {
    if (!epoch.state.empty()) trial->second.state = epoch.state;
    trial->second.trained_seconds += epoch.seconds;
    pruner_->trained_for(trial->second.number, trial->second.trained_seconds);
  }
  if (out_of_time()) return Decision::kStop;
  if (trial == running_.end() || epoch.epoch >= spec_.epochs) return Decision::kContinue;
  Running& run = trial->second;
  Decision decision = Decision::kContinue;
  if (std::vector<double> values =
          objectives_from([&](const std::string& name) { return epoch.value(name); });
      !values.empty()) {
    run.last_values = std::move(values);
    sampler_->tell_intermediate(run.params, epoch.epoch, run.last_values);
    decision = judge(run, epoch, run.last_values);
  }
  if (pbt() && decision == Decision::kContinue && !stopping() &&
      pauses_at(run.number, epoch.epoch)) {
    run.at_rung = true;  // it waits for the rest of the population
    return Decision::kPause;
  }
  // Stopped by a signal, not judged: the trial keeps its state and continues on --resume.
  if (decision == Decision::kContinue && stopping()) {
    run.stopped = true;
    return Decision::kPause;
  }
  return decision;
}

std::optional<double> SweepDriver::allowance_of(const Running& run) const {
  const std::optional<double> deadline = pruner_->report_deadline(run.number, run.trained_seconds);
  if (!deadline) return std::nullopt;
  return *deadline - run.trained_seconds;
}

Decision SweepDriver::judge(Running& run, const EpochMetrics& epoch,
                            std::span<const double> values) {
  const bool rung = pruner_->is_rung(run.number, epoch.epoch);
  const bool stop = pruner_->should_stop(run.number, epoch.epoch, values);
  log_notes();
  const double value = values.front();  // the rung history keeps the first objective
  const bool pause = stop && pruner_->promotes();
  if (rung) {
    store_.record_rung(epoch.trial_id, epoch.epoch, value,
                       pause  ? RungOutcome::kPaused
                       : stop ? RungOutcome::kStopped
                              : RungOutcome::kContinued);
  }
  if (!stop) return Decision::kContinue;
  if (!pause) return Decision::kStop;
  run.at_rung = true;  // it waits there for its promotion
  return Decision::kPause;
}

std::optional<double> SweepDriver::objective_of(const TrialResult& result) const {
  const auto it = result.final_metrics.find(spec_.objective.metric);
  return it == result.final_metrics.end() ? std::nullopt : std::optional<double>(it->second);
}

std::vector<std::string> SweepDriver::objective_names() const {
  std::vector<std::string> names;
  for (const search::Objective& o : spec_.objectives) names.push_back(o.metric);
  if (names.empty()) names.push_back(spec_.objective.metric);  // a spec built in code
  return names;
}

std::vector<double> SweepDriver::objectives_from(
    const std::function<std::optional<double>(const std::string&)>& value_of) const {
  std::vector<double> values;
  for (const std::string& name : objective_names()) {
    const std::optional<double> value = value_of(name);
    if (!value) return {};
    values.push_back(*value);
  }
  return values;
}

std::vector<double> SweepDriver::objectives_of(const TrialResult& result) const {
  return objectives_from([&](const std::string& name) -> std::optional<double> {
    const auto it = result.final_metrics.find(name);
    return it == result.final_metrics.end() ? std::nullopt : std::optional<double>(it->second);
  });
}

std::string SweepDriver::describe(std::span<const double> values) const {
  const std::vector<std::string> names = objective_names();
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    text += fmt::format("{}{}={:.4g}", i ? " " : "", names[i], i < values.size() ? values[i] : NAN);
  }
  return text;
}

void SweepDriver::trial_done(const TrialResult& result) {
  auto paused = running_.find(result.trial_id);
  if (paused != running_.end() && paused->second.at_rung && result.status == TrialStatus::kPaused) {
    // Its result so far is stored with it; it continues when it earns a promotion.
    const std::optional<double> objective = objective_of(result);
    store_.finish_trial(result, objective);
    Running waiting = std::move(paused->second);
    running_.erase(paused);
    waiting.at_rung = false;
    waiting.continues = result.trial_id;
    ++waiting.run;
    sampler_->tell_paused(waiting.params, waiting.last_values, result.epochs_completed);
    if (log_) {
      fmt::print(log_, "trial {} paused at epoch {}: {}\n", result.trial_id,
                 result.epochs_completed, describe(objectives_of(result)));
      std::fflush(log_);
    }
    paused_[result.trial_id] = std::move(waiting);
    return;
  }
  if (auto trial = running_.find(result.trial_id);
      trial != running_.end() && trial->second.stopped && result.status == TrialStatus::kPaused) {
    // Cut short by the stop, not judged: neither the sampler nor the pruner hears of it.
    const bool kept = !trial->second.state.empty();
    store_.mark_interrupted(
        result.trial_id,
        fmt::format("interrupted by signal {} after epoch {}; --resume {}", stop_signal(),
                    result.epochs_completed,
                    kept ? "continues it from there" : "runs it again as a new trial"));
    running_.erase(trial);
    ++interrupted_;
    if (log_) {
      fmt::print(log_, "trial {} interrupted after epoch {}\n", result.trial_id,
                 result.epochs_completed);
      std::fflush(log_);
    }
    return;
  }
  // Refused before training by its costs: outside the budget, never seen by the pruner.
  const bool screened = result.status == TrialStatus::kInfeasible;
  const TrialResult judged = judged_by_constraints(result);
  const std::optional<double> objective = objective_of(judged);
  const std::vector<double> objectives = objectives_of(judged);
  store_.finish_trial(judged, objective);
  // Stored: its training state is no longer needed (a retry starts from scratch).
  if (!spec_.state_dir.empty()) remove_trial_states(spec_.state_dir, {result.trial_id});
  bool retrying = false;
  bool queued = false;
  if (auto trial = running_.find(result.trial_id); trial != running_.end()) {
    queued = trial->second.queued;
    if (!screened) {
      pruner_->trial_ended(trial->second.number, result.status == TrialStatus::kFinished,
                           objectives);
      log_notes();
    }
    // Only a config's last attempt reaches the sampler, so a transient failure does not steer it.
    retrying = result.status == TrialStatus::kFailed && trial->second.attempt < spec_.retries;
    if (retrying) {  // from the start, as a new trial, even if this one had continued
      Running again;
      again.params = trial->second.params;
      again.seed = trial->second.seed;
      again.attempt = trial->second.attempt + 1;
      again.queued = trial->second.queued;
      retries_.push_back(std::move(again));
    } else {
      const auto violation = judged.final_metrics.find(kViolationMetric);
      tell_sampler(trial->second.params, judged.status, objectives, judged.epochs_completed,
                   violation == judged.final_metrics.end() ? 0.0 : violation->second);
    }
    running_.erase(trial);
  }
  if (screened && !queued) {
    ++screened_;
    if (log_ && planned_ > 0 && screened_ == kMaxScreenedPerTrial * planned_) {
      fmt::print(log_,
                 "{} configs broke the constraints before training; the sweep samples no more "
                 "(loosen \"constraints\" or narrow the space towards them)\n",
                 screened_);
    }
  } else if (!retrying && !screened) {
    ++done_;
  }
  if (log_) {
    std::string outcome;
    if (result.status == TrialStatus::kFailed) {
      outcome = "failed: " + result.error + (retrying ? " (will retry)" : "");
    } else if (judged.status == TrialStatus::kInfeasible) {
      outcome = judged.error;
    } else if (result.status == TrialStatus::kPruned && !result.error.empty()) {
      outcome = result.error;  // stopped without a report: why
    } else {
      outcome = fmt::format("{} {}", to_string(result.status), describe(objectives));
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

// A trial's costs come with every epoch (a pruner ranking by one needs it there), but they do
// not change: only those that are objectives are stored per epoch, for a resumed pruner.
EpochMetrics SweepDriver::without_constant_costs(const EpochMetrics& epoch) const {
  EpochMetrics stored = epoch;
  const std::vector<std::string> objectives = objective_names();
  std::erase_if(stored.values, [&](const auto& metric) {
    return is_cost_metric(metric.first) &&
           std::find(objectives.begin(), objectives.end(), metric.first) == objectives.end();
  });
  return stored;
}

TrialResult SweepDriver::judged_by_constraints(const TrialResult& result) const {
  if (result.status != TrialStatus::kFinished || spec_.constraints.empty()) return result;
  const ConstraintCheck check = check_constraints(spec_.constraints, result.final_metrics);
  if (check.feasible()) return result;
  TrialResult infeasible = result;
  mark_infeasible(infeasible, check, "after training");
  return infeasible;
}

void SweepDriver::tell_sampler(const nlohmann::json& params, TrialStatus status,
                               std::span<const double> objectives, int epochs, double violation) {
  if (status == TrialStatus::kInfeasible) {
    sampler_->tell_infeasible(params, violation);
  } else {
    sampler_->tell(params, status, objectives, epochs);
  }
}

void SweepDriver::trial_lost(int64_t trial_id, const std::string& why) {
  auto trial = running_.find(trial_id);
  if (trial == running_.end()) return;
  Running again = trial->second;
  if (!again.state.empty()) {
    // Continued from its last state elsewhere; the lost run's files carry another run number.
    again.continues = trial_id;
    ++again.run;
  }
  if (again.at_rung && again.continues) {  // lost as it paused at a rung: it waits there
    again.at_rung = false;
    store_.mark_interrupted(trial_id, why);
    store_.mark_paused(trial_id);
    paused_[trial_id] = std::move(again);
    running_.erase(trial);
    return;
  }
  store_.mark_interrupted(trial_id, why, again.continues ? 1 : 0);
  retries_.push_front(std::move(again));  // first in line: it was handed out before the rest
  running_.erase(trial);
  if (log_) {
    fmt::print(log_, "trial {} lost: {}\n", trial_id, why);
    std::fflush(log_);
  }
}

void SweepDriver::finish(SweepStatus status) {
  // A sweep that ended (its budget, its wall time) ends its paused trials; an interrupted one
  // keeps them paused for --resume.
  if (status == SweepStatus::kFinished) end_paused_trials();
  store_.finish_sweep(sweep_id_, status);
}

}  // namespace fersweep::coordinator
