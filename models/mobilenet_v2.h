#pragma once
// MobileNetV2 in torchvision's layout: inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1
// linear projection) with ReLU6, a width multiplier applied through make_divisible, and a
// dropout + linear classifier on the pooled 1280 features.
#include "models/model.h"

namespace fersweep::models {

class MobileNetV2Impl : public ClassifierImpl {
 public:
  MobileNetV2Impl(double width_multiplier, Stem stem, int in_channels, int num_classes,
                  double dropout);
  torch::Tensor forward(torch::Tensor x) override;
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override;

 private:
  torch::nn::Sequential features_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(MobileNetV2);

}  // namespace fersweep::models
