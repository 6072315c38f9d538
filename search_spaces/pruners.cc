#include "search_spaces/pruners.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/pareto.h"
#include "common/random.h"
#include "search_spaces/measured_ladder.h"
#include "search_spaces/sampler.h"

namespace fersweep::search {

double score(double value, bool maximize) {
  if (std::isnan(value)) return -INFINITY;
  return maximize ? value : -value;
}

MedianPruner::MedianPruner(int min_epochs, int startup_trials, bool maximize)
    : min_epochs_(min_epochs), startup_trials_(startup_trials), maximize_(maximize) {}

bool MedianPruner::should_stop(int trial, int epoch, std::span<const double> values) {
  const double value = values.front();
  auto& history = history_[trial];
  history.resize(std::max<size_t>(history.size(), epoch), -INFINITY);
  history[epoch - 1] = score(value, maximize_);
  if (epoch < min_epochs_ || finished_.size() < static_cast<size_t>(startup_trials_)) return false;
  std::vector<double> others;
  for (int t : finished_) {
    const auto& h = history_[t];
    if (h.size() >= static_cast<size_t>(epoch)) others.push_back(h[epoch - 1]);
  }
  if (others.empty()) return false;
  std::sort(others.begin(), others.end());
  const size_t n = others.size();
  const double median = n % 2 ? others[n / 2] : 0.5 * (others[n / 2 - 1] + others[n / 2]);
  const double best = *std::max_element(history.begin(), history.begin() + epoch);
  return best < median;
}

void MedianPruner::trial_ended(int trial, bool finished, std::span<const double>) {
  if (finished) finished_.push_back(trial);
}

AshaPruner::AshaPruner(int min_epochs, int eta, int max_epochs, bool maximize, bool promotion)
    : AshaPruner(min_epochs, eta, max_epochs, std::vector<bool>{maximize}, promotion) {}

AshaPruner::AshaPruner(int min_epochs, int eta, int max_epochs, std::vector<bool> maximize,
                       bool promotion)
    : eta_(eta), maximize_(std::move(maximize)), promotion_(promotion) {
  for (int64_t rung = min_epochs; rung < max_epochs; rung *= eta) {
    rungs_.push_back(static_cast<int>(rung));
  }
  seen_.resize(rungs_.size());
  promoted_.resize(rungs_.size());
}

bool AshaPruner::is_rung(int trial, int epoch) const {
  if (!rung_seconds_.empty()) return rung_crossed(trial).has_value();
  return std::find(rungs_.begin(), rungs_.end(), epoch) != rungs_.end();
}

std::unique_ptr<AshaPruner> AshaPruner::in_seconds(double min_seconds, int eta,
                                                   std::vector<bool> maximize,
                                                   bool report_deadline) {
  auto pruner = std::make_unique<AshaPruner>(1, eta, 1, std::move(maximize));
  pruner->report_deadline_ = report_deadline;
  // Enough rungs for any sweep: the last one is past a year of training.
  constexpr double kYear = 365.25 * 24 * 3600;
  for (double rung = min_seconds; pruner->rung_seconds_.empty() || rung / eta < kYear;
       rung *= eta) {
    pruner->rung_seconds_.push_back(rung);
  }
  pruner->seen_.resize(pruner->rung_seconds_.size());
  pruner->promoted_.resize(pruner->rung_seconds_.size());
  return pruner;
}

void AshaPruner::trained_for(int trial, double seconds) {
  if (!rung_seconds_.empty()) progress_[trial].seconds = seconds;
}

std::optional<double> AshaPruner::report_deadline(int, double seconds) const {
  if (!report_deadline_) return std::nullopt;
  const auto above = std::upper_bound(rung_seconds_.begin(), rung_seconds_.end(), seconds);
  for (auto rung = above; rung + 1 < rung_seconds_.end(); ++rung) {
    // An arrival without a value scores worst on every objective: it stops at a rung where any
    // other arrival scores better (the rule's max(1, n / eta) places).
    const std::vector<Arrival>& seen = seen_[static_cast<size_t>(rung - rung_seconds_.begin())];
    const bool holds_a_value = std::any_of(seen.begin(), seen.end(), [](const Arrival& a) {
      return std::any_of(a.scores.begin(), a.scores.end(), [](double s) { return s > -INFINITY; });
    });
    if (holds_a_value) return *(rung + 1);
  }
  return std::nullopt;
}

std::optional<size_t> AshaPruner::rung_crossed(int trial) const {
  const auto progress = progress_.find(trial);
  if (progress == progress_.end()) return std::nullopt;
  const auto reached = static_cast<size_t>(
      std::upper_bound(rung_seconds_.begin(), rung_seconds_.end(), progress->second.seconds) -
      rung_seconds_.begin());
  if (reached == 0 || static_cast<int>(reached) - 1 <= progress->second.judged_rung) {
    return std::nullopt;
  }
  return reached - 1;
}

void AshaPruner::trial_ended(int trial, bool finished, std::span<const double> final_values) {
  const auto progress = progress_.find(trial);
  if (progress == progress_.end()) return;
  if (finished && final_values.size() == maximize_.size()) {
    for (auto rung = static_cast<size_t>(progress->second.judged_rung + 1); rung < seen_.size();
         ++rung) {
      record(rung, trial, final_values);  // it counts there; nothing is decided
    }
  }
  progress_.erase(progress);
}

bool AshaPruner::should_stop(int trial, int epoch, std::span<const double> values) {
  if (!rung_seconds_.empty()) {
    const std::optional<size_t> rung = rung_crossed(trial);
    if (!rung) return false;
    progress_[trial].judged_rung = static_cast<int>(*rung);
    return arrives(*rung, trial, values);
  }
  auto rung = std::find(rungs_.begin(), rungs_.end(), epoch);
  if (rung == rungs_.end()) return false;
  return arrives(static_cast<size_t>(rung - rungs_.begin()), trial, values);
}

void AshaPruner::record(size_t rung, int trial, std::span<const double> values) {
  Arrival arrival{{}, trial};
  for (size_t m = 0; m < maximize_.size(); ++m)
    arrival.scores.push_back(score(values[m], maximize_[m]));
  seen_[rung].push_back(std::move(arrival));
}

bool AshaPruner::arrives(size_t rung, int trial, std::span<const double> values) {
  record(rung, trial, values);
  const std::vector<Arrival>& seen = seen_[rung];
  if (promotion_) return true;  // it waits at the rung for its promotion
  const auto promoted = std::max<size_t>(1, seen.size() / static_cast<size_t>(eta_));
  if (maximize_.size() == 1) {  // a tie with the newcomer counts in its favour
    const double s = seen.back().scores[0];
    const auto better = static_cast<size_t>(
        std::count_if(seen.begin(), seen.end(), [&](const Arrival& a) { return a.scores[0] > s; }));
    return better >= promoted;
  }
  // As with one objective, a tie goes the newcomer's way: only arrivals on a better front, or
  // less crowded on its own, count against it. (Ranked by arrival instead, the two extremes of a
  // front, both infinitely far from their neighbours, left the newcomer out of a rung's single
  // place however good it was.)
  const std::vector<CrowdedRank> order = crowded_ranks(seen);
  const auto newcomer = std::find_if(
      order.begin(), order.end(), [&](const CrowdedRank& r) { return r.index == seen.size() - 1; });
  const auto better =
      static_cast<size_t>(std::count_if(order.begin(), order.end(), [&](const CrowdedRank& r) {
        return r.front < newcomer->front ||
               (r.front == newcomer->front && r.crowding > newcomer->crowding);
      }));
  return better >= promoted;
}

std::vector<CrowdedRank> AshaPruner::crowded_ranks(const std::vector<Arrival>& arrivals) const {
  std::vector<ObjectiveVector> losses;
  for (const Arrival& a : arrivals) {
    ObjectiveVector loss;
    for (double s : a.scores) loss.push_back(-s);
    losses.push_back(std::move(loss));
  }
  return crowded_order(losses);
}

std::vector<size_t> AshaPruner::ranked(const std::vector<Arrival>& arrivals) const {
  std::vector<size_t> order;
  if (maximize_.size() == 1) {
    for (size_t i = 0; i < arrivals.size(); ++i) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return arrivals[a].scores[0] > arrivals[b].scores[0];
    });
    return order;
  }
  for (const CrowdedRank& r : crowded_ranks(arrivals)) order.push_back(r.index);
  return order;
}

std::optional<std::pair<int, int>> AshaPruner::candidate(
    const std::function<bool(int)>& paused) const {
  for (int rung = static_cast<int>(seen_.size()) - 1; rung >= 0; --rung) {
    const std::vector<Arrival>& seen = seen_[static_cast<size_t>(rung)];
    std::vector<size_t> order = ranked(seen);
    order.resize(order.size() / static_cast<size_t>(eta_));
    for (size_t i : order) {
      const int trial = seen[i].trial;
      if (!promoted_[static_cast<size_t>(rung)].contains(trial) && paused(trial)) {
        return std::pair{rung, trial};
      }
    }
  }
  return std::nullopt;
}

std::optional<int> AshaPruner::promote(const std::function<bool(int)>& paused) {
  const auto found = candidate(paused);
  if (!found) return std::nullopt;
  mark_promoted(found->first, found->second);
  return found->second;
}

void AshaPruner::trained_past(int trial, int epoch) {
  for (size_t rung = 0; rung < rungs_.size(); ++rung) {
    if (rungs_[rung] < epoch) promoted_[rung].insert(trial);
  }
}

HyperbandPruner::HyperbandPruner(int min_epochs, int eta, int max_epochs, bool maximize,
                                 uint64_t seed, bool promotion)
    : seed_(seed), promotion_(promotion) {
  int s_max = 0;
  while (static_cast<int64_t>(min_epochs) * static_cast<int64_t>(std::pow(eta, s_max + 1)) <=
         max_epochs) {
    ++s_max;
  }
  uint64_t total = 0;
  for (int b = 0; b <= s_max; ++b) {
    const int first_rung = min_epochs * static_cast<int>(std::pow(eta, b));
    brackets_.push_back(
        std::make_unique<AshaPruner>(first_rung, eta, max_epochs, maximize, promotion));
    // Hyperband's bracket sizes: n_s = ceil((s_max + 1) / (s + 1) * eta^s), s = s_max - b.
    const int s = s_max - b;
    total += static_cast<uint64_t>(std::ceil((s_max + 1.0) / (s + 1.0) * std::pow(eta, s)));
    cumulative_share_.push_back(total);
  }
}

int HyperbandPruner::bracket_of(int trial) const {
  const uint64_t draw = mix_seed(seed_, static_cast<uint64_t>(trial)) % cumulative_share_.back();
  return static_cast<int>(
      std::upper_bound(cumulative_share_.begin(), cumulative_share_.end(), draw) -
      cumulative_share_.begin());
}

bool HyperbandPruner::should_stop(int trial, int epoch, std::span<const double> values) {
  return brackets_[bracket_of(trial)]->should_stop(trial, epoch, values);
}

bool HyperbandPruner::is_rung(int trial, int epoch) const {
  return brackets_[bracket_of(trial)]->is_rung(trial, epoch);
}

std::optional<int> HyperbandPruner::promote(const std::function<bool(int)>& paused) {
  AshaPruner* best_bracket = nullptr;
  std::optional<std::pair<int, int>> best;
  for (const auto& bracket : brackets_) {
    const auto found = bracket->candidate(paused);  // only its own trials reach its rungs
    if (found && (!best || bracket->rungs()[found->first] > best_bracket->rungs()[best->first])) {
      best = found;
      best_bracket = bracket.get();
    }
  }
  if (!best) return std::nullopt;
  best_bracket->mark_promoted(best->first, best->second);
  return best->second;
}

void HyperbandPruner::trained_past(int trial, int epoch) {
  brackets_[bracket_of(trial)]->trained_past(trial, epoch);
}

std::unique_ptr<Pruner> make_pruner(const SweepSpec& spec) {
  const EarlyStopping& e = spec.early_stopping;
  const bool maximize = spec.objective.maximize;
  switch (e.rule) {
    case StoppingRule::kNone:
      return std::make_unique<NoPruner>();
    case StoppingRule::kMedian:
      return std::make_unique<MedianPruner>(e.min_epochs, e.startup_trials, maximize);
    case StoppingRule::kAsha: {
      if (e.resource == StoppingResource::kSeconds) {
        return AshaPruner::in_seconds(e.min_seconds, e.eta, goals_of(spec), e.report_deadline);
      }
      if (e.measured_ladder) {
        // A budget smaller than the probes would leave them waiting for probes never started.
        const int probes = std::min(e.probe_trials, spec.budget.trials.value_or(e.probe_trials));
        return std::make_unique<MeasuredLadderPruner>(e.min_epochs, e.eta, spec.epochs, maximize,
                                                      probes);
      }
      return std::make_unique<AshaPruner>(e.min_epochs, e.eta, spec.epochs, goals_of(spec),
                                          e.promotion);
    }
    case StoppingRule::kHyperband:
      return std::make_unique<HyperbandPruner>(e.min_epochs, e.eta, spec.epochs, maximize,
                                               mix_seed(spec.seed, 0x4B), e.promotion);
  }
  throw std::logic_error("make_pruner: unknown rule");
}

}  // namespace fersweep::search
