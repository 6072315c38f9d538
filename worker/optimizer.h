#pragma once
// The optimizer a trial's config names (Adam, AdamW, SGD with momentum and Nesterov), with
// PyTorch's defaults for whatever the config does not set.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "common/trial.h"

namespace fersweep::worker {

// Throws InputError naming the parameter for a combination that cannot train (Nesterov without
// SGD momentum).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrialConfig& config,
                                                        std::vector<torch::Tensor> parameters);

}  // namespace fersweep::worker
