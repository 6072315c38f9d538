#include "coordinator/sweep_driver.h"

#include <fmt/format.h>

#include "common/random.h"

namespace fersweep::coordinator {

SweepDriver::SweepDriver(search::SweepSpec spec, results::Store& store, std::FILE* log)
    : spec_(std::move(spec)),
      store_(store),
      log_(log),
      sampler_(search::make_sampler(spec_)),
      planned_(search::planned_trials(spec_)) {
  sweep_id_ =
      store_.create_sweep({spec_.name, search::to_string(spec_.method), spec_.objective.metric,
                           spec_.objective.maximize, spec_.seed, planned_, spec_.document});
}

std::optional<TrialAssignment> SweepDriver::next_assignment() {
  if (issued_ >= planned_) return std::nullopt;
  std::optional<nlohmann::json> params = sampler_->ask();
  if (!params) return std::nullopt;
  TrialAssignment assignment;
  assignment.number = static_cast<int>(issued_++);
  assignment.params = std::move(*params);
  assignment.epochs = spec_.epochs;
  assignment.seed = mix_seed(spec_.seed, static_cast<uint64_t>(assignment.number));
  assignment.data = spec_.data;
  assignment.threads = spec_.threads_per_worker;
  assignment.trial_id =
      store_.add_trial(sweep_id_, assignment.number, assignment.params, assignment.seed);
  params_by_trial_[assignment.trial_id] = assignment.params;
  return assignment;
}

void SweepDriver::trial_started(int64_t trial_id, int worker_rank) {
  store_.start_trial(trial_id, worker_rank);
}

Decision SweepDriver::epoch_reported(const EpochMetrics& epoch) {
  store_.record_epoch(epoch);
  return Decision::kContinue;  // early-stopping rules plug in here
}

void SweepDriver::trial_done(const TrialResult& result) {
  std::optional<double> objective;
  if (auto it = result.final_metrics.find(spec_.objective.metric);
      it != result.final_metrics.end()) {
    objective = it->second;
  }
  store_.finish_trial(result, objective);
  sampler_->tell(params_by_trial_[result.trial_id], objective);
  params_by_trial_.erase(result.trial_id);
  ++done_;
  if (log_) {
    const std::string outcome =
        result.status == TrialStatus::kFailed
            ? "failed: " + result.error
            : fmt::format("{} {}={:.4f} in {:.1f} s", to_string(result.status),
                          spec_.objective.metric, objective.value_or(NAN), result.wall_seconds);
    fmt::print(log_, "[{}/{}] trial {} {}\n", done_, planned_, result.trial_id, outcome);
    std::fflush(log_);
  }
}

void SweepDriver::finish(const std::string& status) {
  store_.finish_sweep(sweep_id_, status);
}

}  // namespace fersweep::coordinator
