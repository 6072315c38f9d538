#pragma once
// VGG: blocks of 3x3 convolutions (optional batch-norm, ReLU) each closed by a 2x2 max-pool, then
// dense layers with dropout and a linear classifier. Two presets: torchvision's vgg16 (13 convs,
// 4096-4096 head after a 7x7 adaptive pool) and vgg_custom, whose every dimension is a sweep
// parameter. The seed report's "modified VGG" is vgg_custom with filters {32, 64, 128, 256}.
#include <vector>

#include "models/model.h"

namespace fersweep::models {

struct VggLayout {
  std::vector<int> filters;           // channels of each block
  std::vector<int> convs;             // convolutions in each block
  bool batch_norm = true;             // after every convolution
  std::vector<int> dense;             // hidden widths before the classifier
  bool dense_batch_norm = false;      // after every hidden dense layer (Keras-style heads)
  double dropout = 0.5;               // after every hidden dense layer
  int pooled_size = 0;                // 0: flatten the feature map as is; else adaptive-pool to it
  bool reference_linear_init = true;  // torchvision's N(0, 0.01) for linear layers
};

VggLayout vgg16_layout(Stem stem);
VggLayout vgg_custom_layout(const ModelOptions& options);

class VggImpl : public ClassifierImpl {
 public:
  VggImpl(const VggLayout& layout, int in_channels, int num_classes, int image_size);
  torch::Tensor forward(torch::Tensor x) override;
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override;

 private:
  torch::nn::Sequential features_{nullptr}, classifier_{nullptr};
  int pooled_size_ = 0;
  int feature_channels_ = 0, feature_size_ = 0;  // of the last block's output
};
TORCH_MODULE(Vgg);

}  // namespace fersweep::models
