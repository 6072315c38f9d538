#include "search_spaces/measured_ladder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace fersweep::search {
namespace {

int sign(double x) {
  return (x > 0) - (x < 0);
}

}  // namespace

double top_half_agreement(const std::vector<double>& scores, const std::vector<double>& reference) {
  const size_t n = reference.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return reference[a] > reference[b]; });
  std::vector<bool> better_half(n, false);
  for (size_t i = 0; i < (n + 1) / 2; ++i) better_half[order[i]] = true;
  int concordant = 0, pairs = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (!better_half[i] && !better_half[j]) continue;
      ++pairs;
      concordant += sign(scores[i] - scores[j]) * sign(reference[i] - reference[j]);
    }
  }
  return pairs == 0 ? 0.0 : static_cast<double>(concordant) / pairs;
}

MeasuredLadderPruner::MeasuredLadderPruner(int min_epochs, int eta, int max_epochs, bool maximize,
                                           int probe_trials)
    : eta_(eta), max_epochs_(max_epochs), maximize_(maximize), probe_trials_(probe_trials) {
  for (int64_t rung = min_epochs; rung < max_epochs; rung *= eta) {
    candidates_.push_back(static_cast<int>(rung));
  }
  if (candidates_.size() < 2 || probe_trials < 1) {
    throw std::invalid_argument(fmt::format(
        "MeasuredLadderPruner: needs two rungs below epoch {} and a probe, got {} and {}",
        max_epochs, candidates_.size(), probe_trials));
  }
}

bool MeasuredLadderPruner::should_stop(int trial, int epoch, std::span<const double> values) {
  if (ladder_) {
    if (!ladder_->is_rung(trial, epoch)) return false;
    std::erase(unjudged_, trial);  // it reached the first rung: judged from now on
    return ladder_->should_stop(trial, epoch, values);
  }
  const bool probe = is_probe(trial);
  if (!probe) probes_all_started_ = true;  // trials are numbered in the order they start
  if (std::find(candidates_.begin(), candidates_.end(), epoch) == candidates_.end()) return false;
  before_choice_.push_back({trial, epoch, values.front()});
  if (probe && epoch == horizon()) {
    probes_done_.insert(trial);
    choose_if_probed();
    return true;  // it waits at the horizon for its rung's verdict
  }
  if (!probe && epoch == candidates_.front()) {
    unjudged_.push_back(trial);
    return true;  // it waits for the ladder
  }
  return false;
}

bool MeasuredLadderPruner::is_rung(int trial, int epoch) const {
  if (ladder_) return ladder_->is_rung(trial, epoch);
  return epoch == (is_probe(trial) ? horizon() : candidates_.front());
}

void MeasuredLadderPruner::trial_ended(int trial, bool finished,
                                       std::span<const double> final_values) {
  std::erase(unjudged_, trial);
  if (ladder_) return ladder_->trial_ended(trial, finished, final_values);
  if (is_probe(trial)) {
    probes_done_.insert(trial);  // failed below the horizon: it measures nothing
    choose_if_probed();
  }
}

std::optional<int> MeasuredLadderPruner::first_judged_at(int trial) const {
  if (ladder_) return ladder_->first_judged_at(trial);
  return is_probe(trial) ? horizon() : candidates_.front();
}

std::optional<int> MeasuredLadderPruner::promote(const std::function<bool(int)>& paused) {
  if (!ladder_) return promote_before_choice(paused);
  if (const std::optional<int> promoted = ladder_->promote(paused)) return promoted;
  // Waiting below the first rung: nothing has judged them yet, so they go on to it.
  const auto waiting = std::find_if(unjudged_.begin(), unjudged_.end(), paused);
  if (waiting == unjudged_.end()) return std::nullopt;
  const int trial = *waiting;
  unjudged_.erase(waiting);
  return trial;
}

// A probe taken on here is no longer paused, and nothing pauses it again (every ladder the choice
// can make has no rung above the horizon), so neither this nor the choice needs to remember it.
std::optional<int> MeasuredLadderPruner::promote_before_choice(
    const std::function<bool(int)>& paused) {
  if (!probes_all_started_) return std::nullopt;  // a free worker starts the next probe first
  const auto probes = probe_scores();
  if (probes.size() < 3) return std::nullopt;
  for (const auto& [epoch, tau] : agreement_of(probes)) {
    if (tau >= kAgreement) return std::nullopt;  // the choice may well judge at that rung
  }
  std::vector<std::pair<int, double>> at_horizon;  // trial, score; in trial order for ties
  for (const auto& [trial, scores] : probes) at_horizon.emplace_back(trial, scores.at(horizon()));
  std::stable_sort(at_horizon.begin(), at_horizon.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  at_horizon.resize(at_horizon.size() / static_cast<size_t>(eta_));
  for (const auto& [trial, score] : at_horizon) {
    if (!paused(trial)) continue;
    // The driver logs the promotion by trial id; the pruner knows numbers only.
    notes_.push_back(fmt::format(
        "measured ladder: a probe in the top 1/{} of the {} at epoch {} so far goes on before "
        "the choice, no lower rung agreeing",
        eta_, probes.size(), horizon()));
    return trial;
  }
  return std::nullopt;
}

void MeasuredLadderPruner::trained_past(int trial, int epoch) {
  if (!ladder_) return;
  // A probe paused at the horizon was judged at the chosen rung, not promoted from it, although
  // it trained past; only one trained beyond the horizon was.
  if (is_probe(trial) && epoch <= horizon()) return;
  if (const auto first = ladder_->first_judged_at(trial); first && epoch < *first) {
    if (std::find(unjudged_.begin(), unjudged_.end(), trial) == unjudged_.end()) {
      unjudged_.push_back(trial);  // a resumed sweep's trial waiting below the first rung
    }
    return;
  }
  ladder_->trained_past(trial, epoch);
}

std::vector<int> MeasuredLadderPruner::model_fidelities() const {
  std::vector<int> epochs = ladder_ ? ladder_->rungs() : candidates_;
  epochs.push_back(max_epochs_);
  return epochs;
}

std::vector<std::string> MeasuredLadderPruner::take_notes() {
  return std::exchange(notes_, {});
}

void MeasuredLadderPruner::choose_if_probed() {
  if (static_cast<int>(probes_done_.size()) >= probe_trials_) choose();
}

std::map<int, std::map<int, double>> MeasuredLadderPruner::probe_scores() const {
  std::map<int, std::map<int, double>> by_trial;  // probe -> epoch -> score
  for (const RungValue& v : before_choice_) {
    if (is_probe(v.trial)) by_trial[v.trial][v.epoch] = score(v.value, maximize_);
  }
  std::erase_if(by_trial, [&](const auto& probe) { return !probe.second.contains(horizon()); });
  return by_trial;
}

std::map<int, double> MeasuredLadderPruner::agreement_of(
    const std::map<int, std::map<int, double>>& probes) const {
  std::vector<double> at_horizon;
  for (const auto& [trial, scores] : probes) at_horizon.push_back(scores.at(horizon()));
  std::map<int, double> agreement;
  for (size_t r = 0; r + 1 < candidates_.size(); ++r) {
    std::vector<double> at_rung;
    for (const auto& [trial, scores] : probes) at_rung.push_back(scores.at(candidates_[r]));
    agreement[candidates_[r]] = top_half_agreement(at_rung, at_horizon);
  }
  return agreement;
}

void MeasuredLadderPruner::choose() {
  const auto by_trial = probe_scores();
  const size_t at_horizon = by_trial.size();
  size_t chosen = candidates_.size() - 1;
  int quota = eta_;
  if (at_horizon >= 3) {
    agreement_ = agreement_of(by_trial);
    for (size_t r = 0; r + 1 < candidates_.size(); ++r) {
      if (agreement_[candidates_[r]] >= kAgreement) {
        chosen = r;
        quota = static_cast<int>(std::pow(eta_, static_cast<double>(candidates_.size() - r)));
        break;
      }
    }
  } else {
    chosen = 0;  // too few probes measured anything: the fixed ladder
  }
  const int first = candidates_[chosen];
  ladder_ = std::make_unique<AshaPruner>(first, quota, max_epochs_, maximize_, true);
  std::string measured;
  for (const auto& [epoch, tau] : agreement_) {
    measured += fmt::format("{}{:.2f} at epoch {}", measured.empty() ? "" : ", ", tau, epoch);
  }
  const std::vector<int>& rungs = ladder_->rungs();
  notes_.push_back(fmt::format(
      "measured ladder: {} of {} probes reached epoch {}{}{}; {} {}, {} its top 1/{}", at_horizon,
      probe_trials_, horizon(), measured.empty() ? "" : ", agreement ", measured,
      rungs.size() == 1 ? "one rung, at epoch" : "rungs at epochs", fmt::join(rungs, ", "),
      rungs.size() == 1 ? "promoting" : "each promoting", quota));
  // What reached the chosen rung before the choice arrives there now, in the order it came.
  for (const RungValue& v : before_choice_) {
    if (v.epoch != first) continue;
    if (!is_probe(v.trial)) std::erase(unjudged_, v.trial);
    ladder_->should_stop(v.trial, v.epoch, v.value);
  }
  before_choice_.clear();
}

}  // namespace fersweep::search
