#include "worker/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::worker {

LrSchedule::LrSchedule(const TrialConfig& c, int epochs, int64_t steps_per_epoch)
    : lr_(c.lr),
      min_lr_(c.min_lr),
      decay_(c.lr_decay),
      step_size_(c.step_size),
      patience_(c.plateau_patience),
      epochs_(epochs),
      steps_per_epoch_(std::max<int64_t>(1, steps_per_epoch)),
      warmup_steps_(static_cast<int64_t>(c.warmup_epochs) * steps_per_epoch_),
      plateau_lr_(c.lr),
      kind_(c.schedule) {
  if ((kind_ == Schedule::kCosine || kind_ == Schedule::kPlateau) && c.min_lr >= c.lr) {
    throw InputError(fmt::format("parameters.min_lr: {} must be below lr {}", c.min_lr, c.lr));
  }
}

double LrSchedule::at(int epoch, int64_t step) const {
  const int64_t global = static_cast<int64_t>(epoch - 1) * steps_per_epoch_ + step;
  double rate = lr_;
  switch (kind_) {
    case Schedule::kConstant:
      break;
    case Schedule::kStep:
      rate = lr_ * std::pow(decay_, (epoch - 1) / step_size_);
      break;
    case Schedule::kCosine: {
      const int64_t total = static_cast<int64_t>(epochs_) * steps_per_epoch_;
      const double span = static_cast<double>(std::max<int64_t>(1, total - warmup_steps_));
      const double progress = std::clamp((global - warmup_steps_) / span, 0.0, 1.0);
      rate = min_lr_ + 0.5 * (lr_ - min_lr_) * (1 + std::cos(std::numbers::pi * progress));
      break;
    }
    case Schedule::kPlateau:
      rate = plateau_lr_;
      break;
  }
  if (global < warmup_steps_) {
    rate *= static_cast<double>(global + 1) / static_cast<double>(warmup_steps_);
  }
  return rate;
}

void LrSchedule::end_epoch(double val_loss) {
  if (kind_ != Schedule::kPlateau) return;
  if (val_loss < best_loss_ * (1 - 1e-4)) {
    best_loss_ = val_loss;
    bad_epochs_ = 0;
    return;
  }
  if (++bad_epochs_ > patience_) {
    plateau_lr_ = std::max(plateau_lr_ * decay_, min_lr_);
    bad_epochs_ = 0;
  }
}

nlohmann::json LrSchedule::state() const {
  // The best loss starts infinite, which JSON cannot hold: null stands for it.
  return {{"lr", lr_},
          {"plateau_lr", plateau_lr_},
          {"best_loss", std::isfinite(best_loss_) ? nlohmann::json(best_loss_) : nlohmann::json()},
          {"bad_epochs", bad_epochs_}};
}

void LrSchedule::restore(const nlohmann::json& state) {
  state.at("plateau_lr").get_to(plateau_lr_);
  // PBT may have changed the base rate since: the decays earned so far apply to the new one.
  if (const double saved_lr = state.value("lr", lr_); saved_lr > 0 && saved_lr != lr_) {
    plateau_lr_ = std::max(plateau_lr_ * (lr_ / saved_lr), min_lr_);
  }
  best_loss_ = state.at("best_loss").is_null() ? std::numeric_limits<double>::infinity()
                                               : state.at("best_loss").get<double>();
  state.at("bad_epochs").get_to(bad_epochs_);
}

}  // namespace fersweep::worker
