#pragma once
// Early-stopping rules. The coordinator asks the sweep's pruner after every epoch a trial
// reports; a stopped trial keeps its metrics and ends with status "pruned". Every rule is
// asynchronous: it decides from what it has seen so far and never waits for other trials.
//
// ASHA and Hyperband also run in promotion mode (the ASHA paper's promotion scheme, Li et al.
// 2020, Algorithm 2): a trial reaching a rung pauses there, its training state kept, and a free
// worker first asks for a promotion, the best paused trial in the top 1/eta of the highest rung
// that has one, before it starts a new trial.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/pareto.h"
#include "search_spaces/spec.h"

namespace fersweep::search {

// A value as a score, higher is better whatever the goal; NaN counts as the worst possible.
double score(double value, bool maximize);

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Trial `trial` (its number in the sweep) reached `values` of the objectives (the spec's order)
  // after `epoch` epochs: should it stop now?
  // In promotion mode: should it pause here?
  virtual bool should_stop(int trial, int epoch, std::span<const double> values) = 0;
  bool should_stop(int trial, int epoch, double value) {
    return should_stop(trial, epoch, std::span<const double>(&value, 1));
  }
  // Trial `trial` has trained for `seconds` in all, up to the epoch it reports next (told before
  // should_stop, and also for its last epoch, which nothing judges).
  virtual void trained_for(int trial, double seconds) {}
  // The seconds of training by which trial `trial`, trained `seconds` so far, must report its
  // next epoch, else it is stopped without one; none when it may take as long as it needs.
  virtual std::optional<double> report_deadline(int trial, double seconds) const {
    return std::nullopt;
  }
  // The trial ended; `finished` when it ran all its epochs, with `final_values` of the objectives
  // (empty when it did not report them all).
  virtual void trial_ended(int trial, bool finished, std::span<const double> final_values) {}
  // Whether `epoch` is one of the trial's rungs (its objective there is kept as rung history).
  virtual bool is_rung(int trial, int epoch) const { return false; }
  // The epoch after which trial `trial` is first compared with others, or none when nothing ever
  // stops it (it runs every epoch): the fidelity a multi-fidelity sampler proposes it for.
  virtual std::optional<int> first_judged_at(int trial) const { return std::nullopt; }

  // Promotion mode: trials pause at rungs instead of stopping, and promote() resumes them.
  virtual bool promotes() const { return false; }
  // The trial to continue now, if any: among those `paused` says are paused, the best of the
  // highest rung whose top 1/eta holds one. It counts as promoted from then on.
  virtual std::optional<int> promote(const std::function<bool(int)>& paused) {
    return std::nullopt;
  }
  // A resumed sweep's trial trained past `epoch`: it was promoted from every rung before.
  virtual void trained_past(int trial, int epoch) {}
  // The epochs at which trials are compared from now on, the last epoch included, when the rule
  // changes them during the sweep (a multi-fidelity model fits at one of these only); empty: any.
  virtual std::vector<int> model_fidelities() const { return {}; }
  // What the rule decided since it was last asked, for the sweep's log.
  virtual std::vector<std::string> take_notes() { return {}; }
};

// Never stops anything.
class NoPruner final : public Pruner {
 public:
  using Pruner::should_stop;
  bool should_stop(int, int, std::span<const double>) override { return false; }
};

// Stops a trial whose best value so far is worse than the median of the finished trials' values
// at the same epoch (Optuna's MedianPruner), once `startup_trials` trials have finished and from
// epoch `min_epochs` on.
class MedianPruner final : public Pruner {
 public:
  MedianPruner(int min_epochs, int startup_trials, bool maximize);
  using Pruner::should_stop;
  bool should_stop(int trial, int epoch, std::span<const double> values) override;
  void trial_ended(int trial, bool finished, std::span<const double>) override;
  std::optional<int> first_judged_at(int) const override { return min_epochs_; }

 private:
  int min_epochs_, startup_trials_;
  bool maximize_;
  std::map<int, std::vector<double>> history_;  // trial -> score per epoch (higher is better)
  std::vector<int> finished_;
};

// Asynchronous successive halving (Li et al. 2020): rungs at min_epochs * eta^k epochs below
// the last epoch. Stopping mode: a trial reaching a rung continues only if its value is among the
// top max(1, floor(n / eta)) of the n values recorded at that rung so far, itself included.
// Promotion mode: it pauses at every rung, and is promoted once it is among the top
// floor(n / eta) of its rung (the paper's rule: a rung promotes nothing before eta arrivals).
// With several objectives (multi-objective ASHA, as Syne Tune's MO-ASHA) a rung ranks its
// arrivals by non-dominated sorting, and inside a front by crowding distance, extremes first.
//
// Cost-aware ASHA (in_seconds) puts the rungs at min_seconds * eta^k seconds of training instead,
// as Ray Tune's ASHA with time_attr "time_total_s": a network whose epoch costs minutes meets, at
// its first report, the values cheap networks reached in the same time. A trial is judged at the
// highest rung its report crossed, once per rung. A trial that finished all its epochs below a
// rung counts there with its final value: what its config gives for that much time or more.
//
// With a report deadline, a trial cannot dodge a rung by staying silent: one that trains past a
// rung without reporting and reaches the next rung still silent is stopped there, as an arrival
// with no value would be, once the rung holds a value (report_deadline()). Without it, a network
// whose first epoch takes minutes costs those minutes before any rung can judge it.
class AshaPruner final : public Pruner {
 public:
  AshaPruner(int min_epochs, int eta, int max_epochs, bool maximize, bool promotion = false);
  // One goal per objective, in the order of the values the trials report.
  AshaPruner(int min_epochs, int eta, int max_epochs, std::vector<bool> maximize,
             bool promotion = false);
  // Rungs in seconds of training; stopping mode only.
  static std::unique_ptr<AshaPruner> in_seconds(double min_seconds, int eta,
                                                std::vector<bool> maximize,
                                                bool report_deadline = false);
  using Pruner::should_stop;
  bool should_stop(int trial, int epoch, std::span<const double> values) override;
  bool is_rung(int trial, int epoch) const override;
  void trained_for(int trial, double seconds) override;
  // With rungs in seconds and the deadline on: the rung after the first rung above `seconds`
  // that a silent arrival would lose at (one holding a value).
  std::optional<double> report_deadline(int trial, double seconds) const override;
  void trial_ended(int trial, bool finished, std::span<const double> final_values) override;
  // In seconds, no rung is an epoch a sampler could propose a fidelity for.
  std::optional<int> first_judged_at(int) const override {
    return rungs_.empty() ? std::nullopt : std::optional<int>(rungs_.front());
  }
  bool promotes() const override { return promotion_; }
  std::optional<int> promote(const std::function<bool(int)>& paused) override;
  void trained_past(int trial, int epoch) override;
  const std::vector<int>& rungs() const { return rungs_; }  // in epochs
  const std::vector<double>& rung_seconds() const { return rung_seconds_; }
  // The best promotable trial of the highest rung that has one: (rung index, trial).
  std::optional<std::pair<int, int>> candidate(const std::function<bool(int)>& paused) const;
  void mark_promoted(int rung, int trial) { promoted_[static_cast<size_t>(rung)].insert(trial); }

 private:
  struct Arrival {
    std::vector<double> scores;  // per objective, higher is better
    int trial;
  };
  // Indices into `arrivals`, best first; ties keep the earlier arrival first.
  std::vector<size_t> ranked(const std::vector<Arrival>& arrivals) const;
  // Several objectives: each arrival's front and crowding distance, best first.
  std::vector<CrowdedRank> crowded_ranks(const std::vector<Arrival>& arrivals) const;
  // Adds the trial's values to those `rung` has seen.
  void record(size_t rung, int trial, std::span<const double> values);
  // Records the trial's arrival at `rung`: should it stop (or, promoting, pause) there?
  bool arrives(size_t rung, int trial, std::span<const double> values);
  // Rungs in seconds: the highest rung the trial's training time has reached and it has not been
  // judged at yet.
  std::optional<size_t> rung_crossed(int trial) const;

  struct Progress {
    double seconds = 0;    // trained so far
    int judged_rung = -1;  // the highest rung it was judged at
  };

  int eta_;
  std::vector<bool> maximize_;
  bool promotion_;
  std::vector<int> rungs_;                  // epochs; empty when the rungs are in seconds
  std::vector<double> rung_seconds_;        // seconds; empty when the rungs are in epochs
  std::vector<std::vector<Arrival>> seen_;  // per rung, in arrival order
  std::vector<std::set<int>> promoted_;     // per rung
  std::map<int, Progress> progress_;        // rungs in seconds: per trial
  bool report_deadline_ = false;
};

// Hyperband over ASHA: brackets b = 0..B-1 whose first rung is min_epochs * eta^b; the last one
// never stops anything. Each trial joins one bracket, drawn from its number with the classic
// Hyperband proportions, and competes only inside it.
class HyperbandPruner final : public Pruner {
 public:
  HyperbandPruner(int min_epochs, int eta, int max_epochs, bool maximize, uint64_t seed,
                  bool promotion = false);
  using Pruner::should_stop;
  bool should_stop(int trial, int epoch, std::span<const double> values) override;
  bool is_rung(int trial, int epoch) const override;
  // Its bracket's first rung; none in the last bracket, which never stops anything.
  std::optional<int> first_judged_at(int trial) const override {
    return brackets_[static_cast<size_t>(bracket_of(trial))]->first_judged_at(trial);
  }
  bool promotes() const override { return promotion_; }
  // The highest rung's candidate over all brackets.
  std::optional<int> promote(const std::function<bool(int)>& paused) override;
  void trained_past(int trial, int epoch) override;
  int bracket_of(int trial) const;
  int brackets() const { return static_cast<int>(brackets_.size()); }

 private:
  std::vector<std::unique_ptr<AshaPruner>> brackets_;
  std::vector<uint64_t> cumulative_share_;
  uint64_t seed_;
  bool promotion_;
};

std::unique_ptr<Pruner> make_pruner(const SweepSpec& spec);

}  // namespace fersweep::search
