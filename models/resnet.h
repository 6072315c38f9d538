#pragma once
// ResNet in torchvision's layout (v1.5: the stride of a bottleneck sits on its 3x3 conv), with the
// same module names, so a torchvision state dict maps onto it name for name.
#include <array>

#include "models/model.h"

namespace fersweep::models {

struct ResNetLayout {
  bool bottleneck = false;  // resnet50 and up: 1x1-3x3-1x1 blocks, expansion 4
  std::array<int, 4> blocks{2, 2, 2, 2};
};

// resnet18, resnet34 or resnet50.
ResNetLayout resnet_layout(const std::string& arch);

class ResNetImpl : public ClassifierImpl {
 public:
  ResNetImpl(const ResNetLayout& layout, Stem stem, int in_channels, int num_classes,
             double dropout);
  torch::Tensor forward(torch::Tensor x) override;
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  bool stem_pool_ = true;
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace fersweep::models
