#pragma once
// Image sets as resident uint8 tensors, and the per-batch work: gather, normalise, augment.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "common/random.h"
#include "data/image_set.h"

namespace fersweep::worker {

struct TensorDataset {
  torch::Tensor images;  // uint8 [N, 1, H, W]
  torch::Tensor labels;  // int64 [N]
  std::vector<std::string> class_names;
  int64_t size() const { return labels.size(0); }
};

// Copies the set into tensors resident on `device`, kept as uint8 to save memory.
TensorDataset to_tensors(const data::ImageSet& set, torch::Device device = torch::kCPU);

// uint8 images -> float, scaled to roughly zero mean and unit variance.
torch::Tensor normalise(const torch::Tensor& images);

// Per sample: horizontal flip with probability 1/2 and a shift of up to max_shift pixels in each
// direction (edges replicated). Randomness comes from `rng`, so runs repeat exactly.
torch::Tensor augment(const torch::Tensor& batch, Rng& rng, int max_shift);

// A uniformly random permutation of [0, n) (Fisher-Yates on our portable RNG).
torch::Tensor permutation(int64_t n, Rng& rng);

}  // namespace fersweep::worker
