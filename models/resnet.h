#pragma once
// ResNet in torchvision's layout (v1.5: the stride of a bottleneck sits on its 3x3 conv), with the
// same module names, so a torchvision state dict maps onto it name for name.
#include <array>
#include <string>
#include <vector>

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
  // `image_size` decides which stages run NCHW on a CPU (nchw_parameters()).
  ResNetImpl(const ResNetLayout& layout, Stem stem, int in_channels, int num_classes,
             double dropout, int image_size = 224);
  torch::Tensor forward(torch::Tensor x) override;
  // The stages whose maps are 2x2 or smaller, as at 48 px with the ImageNet stem the last one is:
  // oneDNN runs them faster NCHW (ResNet-18/34/50 steps 10-15 % shorter; 3x3 maps gained
  // nothing; docs/BENCHMARKS.md, bench/conv_small_maps.py).
  std::vector<std::string> nchw_parameters() const override;
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  bool stem_pool_ = true;
  int first_nchw_stage_ = 4;  // 4: none
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace fersweep::models
