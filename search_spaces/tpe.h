#pragma once
// Tree-structured Parzen Estimator (Bergstra et al. 2011; defaults and bandwidths as in
// Optuna 3.1). Observations are split into the best `gamma` fraction (below) and the rest
// (above); each side becomes a Parzen mixture, l(x) and g(x), and the suggestion is the draw
// from l among `candidates` draws that maximises l(x)/g(x).
//
// - multivariate: the unconditional parameters share one kernel per observation (their
//   correlations count); conditional parameters get their own univariate estimators built from
//   the trials where they were active. The kernels' width is a fixed fraction of each range or,
//   by Scott's rule, the observations' spread in it (TpeOptions::bandwidth).
// - constant liar: configs asked but not yet told count as the worst observations, so workers
//   that ask at the same time are pushed apart instead of all getting the same suggestion.
// - pruned trials rank after every finished one (further-trained first); failed ones rank last,
//   so a config that runs out of memory is avoided rather than forgotten. A trial paused at a
//   rung (promotion mode) ranks as pruned there until its next report replaces it.
// - multi-fidelity (the spec's tpe.multi_fidelity; BOHB's model, Falkner et al. 2018): every
//   epoch a trial reports is an observation at that budget. The model is fitted on the largest
//   budget that enough configs reached (max(startup_trials, varied parameters + 2)), ranked by
//   their value there; configs stopped below it rank after them, further-trained first. Early
//   on that is the first rung, later the higher ones: the rung results ASHA collects steer the
//   search long before any trial finishes. The budget is never below the epoch at which the
//   trial being proposed is first judged (next_judged_at: its Hyperband bracket's first rung).
// - several objectives (MOTPE, Ozaki et al. 2020, as Optuna 3.1's TPESampler does it): the
//   finished trials rank by non-dominated front; the front that straddles the good group's size
//   is cut by greedy hypervolume subset selection, and each good observation's kernel weighs by
//   its hypervolume contribution instead of its age.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "search_spaces/sampler.h"

namespace fersweep::search {

class TpeSampler final : public Sampler {
 public:
  TpeSampler(const std::vector<Parameter>& parameters, const TpeOptions& options, bool maximize,
             uint64_t seed);
  // One goal per objective.
  TpeSampler(const std::vector<Parameter>& parameters, const TpeOptions& options,
             std::vector<bool> maximize, uint64_t seed);
  std::optional<Json> ask() override;
  using Sampler::tell;
  void tell(const Json& params, TrialStatus status, std::span<const double> values,
            int epochs) override;
  // As Optuna's TPE with constraints (and c-TPE's simplest form): an infeasible config ranks
  // after every feasible one, by its violation; while too few are feasible to fill the good
  // group, the least violating ones do, so the model first heads for the feasible region.
  void tell_infeasible(const Json& params, double violation) override;
  void tell_intermediate(const Json& params, int epoch, std::span<const double> values) override;
  // Ranks the config as a pruned trial stopped at `epochs` until its next report replaces it.
  void tell_paused(const Json& params, std::span<const double> values, int epochs) override;
  void next_judged_at(int epochs) override { judged_at_ = epochs; }
  void model_fidelities(std::vector<int> epochs) override { fidelities_ = std::move(epochs); }
  // TPE's suggestions depend on when results arrived, which the database does not keep, so a
  // replay advances the random stream by one ask and records `params` as that ask: the resumed
  // sweep sees every stored result, without claiming to repeat the uninterrupted sequence.
  bool replay(const Json& params) override;
  // Configs the model holds an outcome of: each told config once, a paused one included.
  size_t observations() const { return told_.size(); }

  struct Observation {
    Json params;
    // Sort key, smaller is better: (group, -epochs for pruned, violation for infeasible, loss).
    // Group 0 finished, 1 pruned, 2 infeasible, 3 failed, 4 pending (the constant liar).
    int group = 0;
    int epochs = 0;
    double violation = 0;
    std::vector<double> losses;  // per objective, minimised; infinite when it has none
    uint64_t order = 0;          // when it was asked: older observations weigh less past 25
    // Kernel coordinates per parameter of the space (NaN where inactive or not encodable),
    // computed once rather than looked up in `params` at every ask.
    std::vector<double> encoded;
    bool paused = false;  // told by tell_paused: the config's next report replaces it
  };

 private:
  std::vector<double> encode_all(const Json& params) const;
  // Removes `params` from the pending configs; its ask order (now, for one never asked).
  uint64_t settle(const Json& params);
  // tell() and tell_paused(): the outcome replaces the config's paused observation, if any.
  void record(const Json& params, TrialStatus status, std::span<const double> values, int epochs,
              bool paused);
  // The pending (asked, not yet told) observation of `params`, or pending_.end().
  std::vector<Observation>::iterator pending_config(const Json& params);
  // `told` and the constant liar's `liars`, best first (the good group is a prefix).
  std::vector<const Observation*> ranked(const std::vector<Observation>& told,
                                         const std::vector<const Observation*>& liars,
                                         size_t n_below) const;
  // multi_fidelity: the largest budget enough configs reached, if any; the observations the
  // model sees there.
  std::optional<int> model_budget() const;
  std::vector<Observation> observations_at(int budget) const;
  Json sample_model_based(const std::vector<const Observation*>& below,
                          const std::vector<double>& below_weights,
                          const std::vector<const Observation*>& above);

  std::vector<Parameter> parameters_;
  TpeOptions options_;
  std::vector<bool> maximize_;
  Rng rng_;
  std::vector<Observation> told_;
  std::vector<Observation> pending_;
  // multi_fidelity: per budget (epochs), each config's losses there, by config (its JSON text).
  std::map<int, std::map<std::string, Observation>> by_budget_;
  uint64_t asked_ = 0;
  int judged_at_ = 0;            // the next trial's first comparison (next_judged_at); 0: not told
  std::vector<int> fidelities_;  // model_fidelities(); empty: every budget
};

}  // namespace fersweep::search
