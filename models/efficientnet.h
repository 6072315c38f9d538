#pragma once
// EfficientNet-B0 in torchvision's layout: MBConv blocks (1x1 expand, depthwise kxk, squeeze-and-
// excitation, 1x1 projection) with SiLU, stochastic depth rising linearly to the last block, and a
// dropout + linear classifier on the pooled 1280 features.
#include "models/model.h"

namespace fersweep::models {

class EfficientNetImpl : public ClassifierImpl {
 public:
  EfficientNetImpl(double stochastic_depth, Stem stem, int in_channels, int num_classes,
                   double dropout);
  torch::Tensor forward(torch::Tensor x) override;
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override;

 private:
  torch::nn::Sequential features_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(EfficientNet);

}  // namespace fersweep::models
