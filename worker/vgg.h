#pragma once
// The configurable VGG of the walking skeleton: blocks of 3x3 convolutions (optional batch-norm,
// ReLU) each closed by a 2x2 max-pool, then hidden dense layers with dropout and a linear
// classifier. The seed report's "modified VGG" is filters {32, 64, 128, 256}.
#include <torch/torch.h>

#include <vector>

namespace fersweep::worker {

struct VggOptions {
  int in_channels = 1;
  int num_classes = 7;
  int image_size = 48;
  std::vector<int> filters = {32, 64, 128, 256};
  int convs_per_block = 2;
  bool batch_norm = true;
  std::vector<int> dense = {256};
  double dropout = 0.5;
};

class VggCustomImpl : public torch::nn::Module {
 public:
  explicit VggCustomImpl(const VggOptions& options);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential features_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(VggCustom);

int64_t count_trainable_parameters(torch::nn::Module& module);

}  // namespace fersweep::worker
