#pragma once
// Samplers turn a search space into a sequence of configs (JSON objects: parameter -> value;
// inactive conditional parameters are left out). Every sampler is deterministic: the configs it
// suggests are a pure function of the spec's seed and of what it was told, in order.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/random.h"
#include "common/trial.h"
#include "search_spaces/spec.h"

namespace fersweep::search {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The next config, or nothing when the space is exhausted. The config is pending until told.
  virtual std::optional<Json> ask() = 0;
  // The outcome of a config this sampler suggested: `values` are its objectives in the spec's
  // order (as reported, not sign-flipped) after its last epoch, `epochs` how many it ran. Failed
  // trials, and trials missing an objective, carry none.
  virtual void tell(const Json& params, TrialStatus status, std::span<const double> values,
                    int epochs) {}
  // One objective: the value, or none.
  void tell(const Json& params, TrialStatus status, std::optional<double> value, int epochs) {
    tell(params, status, value ? std::span<const double>(&*value, 1) : std::span<const double>(),
         epochs);
  }
  // A config it suggested broke the sweep's constraints, before or after training, by
  // `violation` (common/constraints.h). Samplers that model the space steer away from it; the
  // others need not hear of it.
  virtual void tell_infeasible(const Json& params, double violation) {}
  // A running config's objectives after `epoch` (in the spec's order): evidence at a lower
  // fidelity, which a multi-fidelity sampler models (tpe.multi_fidelity) and the others ignore.
  virtual void tell_intermediate(const Json& params, int epoch, std::span<const double> values) {}
  // Promotion mode: a config it suggested paused at a rung after `epochs` epochs with `values`.
  // It may wait there until the sweep ends, so a sampler that models the space counts it as
  // stopped there now, not as pending; a later tell_paused() or tell() of the config replaces
  // that. (Told only at the end, a sweep whose trials mostly wait would never leave its startup.)
  virtual void tell_paused(const Json& params, std::span<const double> values, int epochs) {}
  // The config the next ask() (or replay()) returns is for a trial first compared with others
  // after `epochs` epochs (its ASHA or Hyperband bracket's first rung; the sweep's epochs when
  // nothing stops it early). A multi-fidelity sampler proposes for that fidelity.
  virtual void next_judged_at(int epochs) {}
  // The epochs at which trials are compared from now on, the last one included, when the
  // early-stopping rule sets them during the sweep (a measured ASHA ladder): a multi-fidelity
  // sampler fits its model at one of these only. Empty: at any epoch.
  virtual void model_fidelities(std::vector<int> epochs) {}
  // Resuming a stopped sweep: moves the sampler past a config it suggested before, as if ask()
  // had just returned `params` (pending until told). False when this sampler would have
  // suggested something else here: the search space or the sampler changed since.
  virtual bool replay(const Json& params);
};

// Cartesian product of every parameter's values, the last parameter varying fastest; a
// conditional parameter only multiplies the branches where it is active.
class GridSampler final : public Sampler {
 public:
  explicit GridSampler(const std::vector<Parameter>& parameters);
  std::optional<Json> ask() override;
  // Number of grid points, counted up to `limit`.
  uint64_t size(uint64_t limit) const;

 private:
  Json config() const;
  // Steps the odometer past `current` (the config of the present digits); false at the end.
  bool advance(const Json& current);

  std::vector<Parameter> parameters_;
  std::vector<size_t> digits_;
  bool exhausted_ = false;
};

// Independent draws from each parameter's distribution.
class RandomSampler final : public Sampler {
 public:
  RandomSampler(const std::vector<Parameter>& parameters, uint64_t seed);
  std::optional<Json> ask() override;

 private:
  std::vector<Parameter> parameters_;
  Rng rng_;
};

std::unique_ptr<Sampler> make_sampler(const SweepSpec& spec);

// Whether each objective is maximised, in the spec's order.
std::vector<bool> goals_of(const SweepSpec& spec);

// Grids larger than this need an explicit budget.trials.
inline constexpr uint64_t kLargestCountedGrid = 10'000'000;

// The number of trials a sweep will start: the trial budget, capped by the grid size for grid
// search; 0 when only a wall-time budget bounds the sweep.
uint64_t planned_trials(const SweepSpec& spec);

}  // namespace fersweep::search
