#include "worker/optimizer.h"

#include "common/error.h"

namespace fersweep::worker {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrialConfig& c,
                                                        std::vector<torch::Tensor> parameters) {
  namespace optim = torch::optim;
  if (c.nesterov && (c.optimizer != Optimizer::kSgd || c.momentum <= 0)) {
    throw InputError("parameters.nesterov: needs optimizer \"sgd\" with momentum > 0");
  }
  switch (c.optimizer) {
    case Optimizer::kSgd:
      return std::make_unique<optim::SGD>(parameters, optim::SGDOptions(c.lr)
                                                          .momentum(c.momentum)
                                                          .nesterov(c.nesterov)
                                                          .weight_decay(c.weight_decay));
    case Optimizer::kAdamW:
      return std::make_unique<optim::AdamW>(parameters,
                                            optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
    case Optimizer::kAdam:
      return std::make_unique<optim::Adam>(parameters,
                                           optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  }
  throw std::invalid_argument("optimizer: unsupported " + to_string(c.optimizer));
}

}  // namespace fersweep::worker
