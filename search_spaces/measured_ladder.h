#pragma once
// ASHA whose rung ladder the sweep measures instead of the user guessing it (spec
// "early_stopping": {"type": "asha", "mode": "promotion", "ladder": "measured"}).
//
// How early a rung may judge, and how few it may keep, depends on how well an early epoch ranks
// configs as the last one does. Where it does (Hartmann-6's fidelities, Kendall's tau about 0.99
// between epochs 1 and 27), keeping only the best 1/27 at the first rung reaches a good config in
// a third of the epochs ASHA's eta 3 ladder takes; where it does not (a learning rate that trades
// speed for ceiling, tau 0.2), any early rung stops the configs that end best, and only a late
// one finds them (docs/BENCHMARKS.md, "Model-based multi-fidelity search").
//
// So the first `probe_trials` trials train unjudged to the highest rung below the last epoch (the
// horizon) and pause there; trials started meanwhile pause at the first rung. From the probes'
// values, each lower rung's agreement with the horizon is Kendall's tau over the pairs with at
// least one member in the horizon's better half (how the rung orders the configs worth keeping;
// the order among bad ones does not matter, and seed noise scrambles it). Then:
// - the earliest rung agreeing at least kAgreement becomes the only rung, and promotes its top
//   1/eta^m straight to the last epoch, m the rungs from there up (what the fixed ladder would
//   let through to the end, in one step);
// - with no such rung, the horizon is the only rung, promoting its top 1/eta.
// The probes join the chosen rung with their values there; waiting trials join it too when it is
// the first rung, else they continue unjudged to it.
//
// With several workers the last probes still train while the first wait at the horizon, and the
// best probe's last epoch would come only after the choice. So once every probe has started
// (a later trial has reached the first rung), a free worker may take a probe from the horizon on
// before the choice, if it is in the top 1/eta of the probes there so far and no lower rung
// agrees with the horizon on them: the ladder the choice then most likely keeps, the horizon's,
// would promote it.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "search_spaces/pruners.h"

namespace fersweep::search {

class MeasuredLadderPruner final : public Pruner {
 public:
  static constexpr double kAgreement = 0.9;
  // Needs at least two rungs (min_epochs * eta < max_epochs) and a probe trial; with fewer than 3
  // probes at the horizon it keeps the fixed ladder.
  MeasuredLadderPruner(int min_epochs, int eta, int max_epochs, bool maximize, int probe_trials);
  using Pruner::should_stop;
  bool should_stop(int trial, int epoch, std::span<const double> values) override;
  bool is_rung(int trial, int epoch) const override;
  void trial_ended(int trial, bool finished, std::span<const double> final_values) override;
  std::optional<int> first_judged_at(int trial) const override;
  bool promotes() const override { return true; }
  std::optional<int> promote(const std::function<bool(int)>& paused) override;
  void trained_past(int trial, int epoch) override;
  std::vector<int> model_fidelities() const override;
  std::vector<std::string> take_notes() override;

  // The ladder chosen once the probes are in; null before.
  const AshaPruner* ladder() const { return ladder_.get(); }
  // Each lower rung's measured agreement with the horizon (empty before the choice).
  const std::map<int, double>& agreement() const { return agreement_; }
  // The rungs it chooses from: min_epochs * eta^k below the last epoch; the last is the horizon.
  const std::vector<int>& candidates() const { return candidates_; }

 private:
  bool is_probe(int trial) const { return trial < probe_trials_; }
  int horizon() const { return candidates_.back(); }
  void choose_if_probed();
  void choose();
  std::optional<int> promote_before_choice(const std::function<bool(int)>& paused);
  // The probes' scores at each candidate rung, those that reached the horizon only.
  std::map<int, std::map<int, double>> probe_scores() const;
  // Each lower rung's top_half_agreement with the horizon over `probes`.
  std::map<int, double> agreement_of(const std::map<int, std::map<int, double>>& probes) const;

  struct RungValue {
    int trial;
    int epoch;
    double value;
  };
  int eta_, max_epochs_;
  bool maximize_;
  int probe_trials_;
  std::vector<int> candidates_;
  std::vector<RungValue> before_choice_;  // values reported at rungs before the choice, in order
  std::set<int> probes_done_;             // probes at the horizon, or ended below it
  std::vector<int> unjudged_;             // paused below the chosen ladder's first rung
  bool probes_all_started_ = false;       // a later trial has reached the first rung
  std::unique_ptr<AshaPruner> ladder_;
  std::map<int, double> agreement_;
  std::vector<std::string> notes_;
};

// Kendall's tau between two score lists (higher is better) over the pairs with at least one
// member in the better half of `reference`; ties count as neither agreeing nor not. 0 when no
// pair qualifies.
double top_half_agreement(const std::vector<double>& scores, const std::vector<double>& reference);

}  // namespace fersweep::search
