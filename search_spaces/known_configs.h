#pragma once
// Configs a user knows before the search starts: the spec's `initial_configs`, configs enqueued
// into a running sweep, an earlier sweep's trials offered as warm-start evidence. Each is checked
// against the sweep's space; a partial one is completed by sampling.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "search_spaces/sampler.h"

namespace fersweep::search {

// Why `config` does not belong to the space, or nothing when it does. `partial`: active parameters
// may be left out (to be sampled); a conditional one that is given needs its parents given too,
// so that whether it is active does not depend on a draw. Without `partial`, every active
// parameter must be there, and nothing else.
std::optional<std::string> misfit(const std::vector<Parameter>& parameters, const Json& config,
                                  bool partial);

// `partial` (which fits the space) completed: its values kept, every other active parameter drawn
// from `rng` as random_config draws it.
Json completed(const std::vector<Parameter>& parameters, const Json& partial, Rng& rng);

// The spec's initial configs, completed, in order: a pure function of the spec (its seed).
std::vector<Json> initial_configs_of(const SweepSpec& spec);

// Suggests the spec's initial configs first, exactly as given where given, then what the wrapped
// sampler suggests. The wrapped sampler hears every outcome, the initial configs' included.
class InitialConfigsSampler final : public Sampler {
 public:
  InitialConfigsSampler(std::vector<Json> initial, std::unique_ptr<Sampler> next);
  std::optional<Json> ask() override;
  void tell(const Json& params, TrialStatus status, std::span<const double> values,
            int epochs) override;
  using Sampler::tell;
  void tell_infeasible(const Json& params, double violation) override;
  void tell_intermediate(const Json& params, int epoch, std::span<const double> values) override;
  void tell_paused(const Json& params, std::span<const double> values, int epochs) override {
    next_->tell_paused(params, values, epochs);
  }
  void next_judged_at(int epochs) override { next_->next_judged_at(epochs); }
  bool replay(const Json& params) override;

 private:
  std::vector<Json> initial_;
  size_t asked_ = 0;
  std::unique_ptr<Sampler> next_;
};

}  // namespace fersweep::search
