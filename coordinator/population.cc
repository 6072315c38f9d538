// Population Based Training in the sweep driver: when a member pauses, when a generation is
// decided, and how a member takes over a top member's training state (docs/SPEC.md, "Population
// Based Training"; docs/RELIABILITY.md for what a crash does in between).
#include <algorithm>
#include <cstdint>
#include <filesystem>

#include <fmt/format.h>

#include "common/random.h"
#include "common/state_files.h"
#include "coordinator/sweep_driver.h"
#include "search_spaces/pbt.h"

namespace fersweep::coordinator {

bool SweepDriver::pauses_at(int number, int epoch) const {
  if (epoch <= 0 || epoch >= spec_.epochs) return false;
  if (pbt()) return epoch % spec_.pbt.interval == 0;
  return pruner_->promotes() && pruner_->is_rung(number, epoch);
}

void SweepDriver::next_generation() {
  int epoch = 0;
  for (const auto& [id, run] : paused_) epoch = std::max(epoch, run.state.epoch);
  // Members behind the rest (run again from the start, or continued from an earlier state after
  // a crash) catch up first; the generation waits for them.
  const bool level = std::all_of(paused_.begin(), paused_.end(), [&](const auto& member) {
    return member.second.state.epoch == epoch;
  });
  if (level) {
    std::vector<search::MemberScore> scores;
    for (const auto& [id, run] : paused_) scores.push_back({id, run.last_value()});
    Rng rng(mix_seed(spec_.seed, 0x9B7000 + static_cast<uint64_t>(epoch)));
    for (const search::Exploit& e :
         search::plan_exploits(scores, spec_.objective.maximize, spec_.pbt.quantile, rng)) {
      exploit(e.member, e.parent, epoch, rng);
    }
  }
  continue_paused_where([&](const Running& member) { return level || member.state.epoch < epoch; });
}

void SweepDriver::continue_paused_where(const std::function<bool(const Running&)>& chosen) {
  for (auto member = paused_.begin(); member != paused_.end();) {
    if (!chosen(member->second)) {
      ++member;
      continue;
    }
    retries_.push_back(std::move(member->second));
    member = paused_.erase(member);
  }
}

// The member loads a copy of the parent's training state and continues with the parent's params
// explored. The copy is recorded (with the new params) before the member's own state goes, so a
// crash in between leaves a member that continues as either itself or its parent's copy.
void SweepDriver::exploit(int64_t member, int64_t parent, int epoch, Rng& rng) {
  Running& child = paused_.at(member);
  const Running& source = paused_.at(parent);
  const nlohmann::json params =
      search::explore(source.params, spec_.parameters, spec_.pbt.resample_probability, rng);
  const std::optional<StateRef> copied =
      copy_trial_state(source.state, spec_.state_dir, member, child.run);
  if (!copied) {
    if (log_) {
      fmt::print(log_,
                 "trial {} keeps its own weights: trial {}'s state {} is missing or damaged\n",
                 member, parent, source.state.path);
    }
    return;
  }
  store_.record_schedule(member, epoch, parent, params, copied);
  std::error_code ignored;
  if (child.state.path != copied->path) std::filesystem::remove(child.state.path, ignored);
  if (log_) {
    fmt::print(log_, "trial {} after epoch {}: loads trial {}'s state, {} -> {}\n", member, epoch,
               parent, child.params.dump(), params.dump());
  }
  child.params = params;
  child.state = *copied;
  child.last_values = source.last_values;
}

}  // namespace fersweep::coordinator
