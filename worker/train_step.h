#pragma once
// What a trial trains with, and one training step of it: the same code for a rank training alone
// and for one rank of a gang (data parallelism, docs/PARALLEL.md).
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/trial.h"
#include "models/model.h"
#include "parallel/communicator.h"
#include "parallel/gradient_sync.h"
#include "worker/batches.h"
#include "worker/schedule.h"

namespace fersweep::worker {

// Forward passes in bfloat16 where autocast allows it (convolutions, matrix products), as
// torch.autocast does; backward follows the forward's types. Weights, gradients and optimizer
// state stay float32, so no loss scaling is needed.
class Autocast {
 public:
  Autocast(const torch::Device& device, bool enabled);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool cuda_, enabled_, was_enabled_ = false;
};

// Everything a trial trains with, built before its first step.
struct TrainingSetup {
  TrialConfig config;
  models::ModelOptions options;
  std::unique_ptr<BatchStream> batches;
  models::Classifier model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<LrSchedule> schedule;
  torch::nn::functional::CrossEntropyFuncOptions loss_options;
  torch::Tensor class_weights;  // defined for class_balance weighted_loss
  torch::Device device{torch::kCPU};
  bool bf16 = false;  // resources.precision bf16
};

struct StepResult {
  double loss = 0;  // mean over the whole batch
  int64_t correct = 0;
};

// One optimizer step on `batch`. Alone (`sync` null, a gang of one) the rank trains on the whole
// batch and a failure throws. In a gang each rank takes its slice of the batch; its summed loss is
// divided by the whole batch's denominator, so the gang's summed gradients are exactly those of
// one process's mean loss. `failure` (the leader's clock) or any error of a rank makes every rank
// of the gang throw together, after the gradients' collectives, so no rank is left waiting.
StepResult train_step(TrainingSetup& setup, const Batch& batch, parallel::Communicator& gang,
                      parallel::GradientSync* sync, std::optional<std::string> failure = {});

}  // namespace fersweep::worker
