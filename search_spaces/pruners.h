#pragma once
// Early-stopping rules. The coordinator asks the sweep's pruner after every epoch a trial
// reports; a stopped trial keeps its metrics and ends with status "pruned". Every rule is
// asynchronous: it decides from what it has seen so far and never waits for other trials.
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "search_spaces/spec.h"

namespace fersweep::search {

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Trial `trial` (its number in the sweep) reached `value` of the objective after `epoch`
  // epochs: should it stop now?
  virtual bool should_stop(int trial, int epoch, double value) = 0;
  // The trial ended; `finished` when it ran all its epochs.
  virtual void trial_ended(int trial, bool finished) {}
};

// Never stops anything.
class NoPruner final : public Pruner {
 public:
  bool should_stop(int, int, double) override { return false; }
};

// Stops a trial whose best value so far is worse than the median of the finished trials' values
// at the same epoch (Optuna's MedianPruner), once `startup_trials` trials have finished and from
// epoch `min_epochs` on.
class MedianPruner final : public Pruner {
 public:
  MedianPruner(int min_epochs, int startup_trials, bool maximize);
  bool should_stop(int trial, int epoch, double value) override;
  void trial_ended(int trial, bool finished) override;

 private:
  int min_epochs_, startup_trials_;
  bool maximize_;
  std::map<int, std::vector<double>> history_;  // trial -> score per epoch (higher is better)
  std::vector<int> finished_;
};

// Asynchronous successive halving (Li et al. 2020): rungs at min_epochs * eta^k epochs below
// the last epoch. A trial reaching a rung continues only if its value is among the top
// max(1, floor(n / eta)) of the n values recorded at that rung so far, itself included.
class AshaPruner final : public Pruner {
 public:
  AshaPruner(int min_epochs, int eta, int max_epochs, bool maximize);
  bool should_stop(int trial, int epoch, double value) override;
  const std::vector<int>& rungs() const { return rungs_; }

 private:
  int eta_;
  bool maximize_;
  std::vector<int> rungs_;                 // epochs
  std::vector<std::vector<double>> seen_;  // per rung: scores recorded, higher is better
};

// Hyperband over ASHA: brackets b = 0..B-1 whose first rung is min_epochs * eta^b; the last one
// never stops anything. Each trial joins one bracket, drawn from its number with the classic
// Hyperband proportions, and competes only inside it.
class HyperbandPruner final : public Pruner {
 public:
  HyperbandPruner(int min_epochs, int eta, int max_epochs, bool maximize, uint64_t seed);
  bool should_stop(int trial, int epoch, double value) override;
  int bracket_of(int trial) const;
  int brackets() const { return static_cast<int>(brackets_.size()); }

 private:
  std::vector<std::unique_ptr<AshaPruner>> brackets_;
  std::vector<uint64_t> cumulative_share_;
  uint64_t seed_;
};

std::unique_ptr<Pruner> make_pruner(const SweepSpec& spec);

}  // namespace fersweep::search
