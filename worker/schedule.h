#pragma once
// Learning-rate schedules, stepped per batch: an optional linear warm-up, then constant, step
// decay, cosine annealing or reduce-on-plateau (PyTorch's semantics: mode min, relative threshold
// 1e-4, decay once val_loss has not improved for more than `plateau_patience` epochs). Plain
// arithmetic, no LibTorch, so it is tested exactly.
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/trial.h"

namespace fersweep::worker {

class LrSchedule {
 public:
  // Throws InputError naming the parameter when the settings cannot work together.
  LrSchedule(const TrialConfig& config, int epochs, int64_t steps_per_epoch);

  // The rate for batch `step` (0-based) of `epoch` (1-based).
  double at(int epoch, int64_t step) const;
  // Reduce-on-plateau's bookkeeping; call once per epoch with the validation loss.
  void end_epoch(double val_loss);
  // What end_epoch has learnt so far, for a trial's training state (rates at a step need no state).
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  double lr_, min_lr_, decay_;
  int step_size_, patience_, epochs_;
  int64_t steps_per_epoch_, warmup_steps_;
  double plateau_lr_;
  Schedule kind_;
  double best_loss_ = std::numeric_limits<double>::infinity();
  int bad_epochs_ = 0;
};

}  // namespace fersweep::worker
