#include "worker/batches.h"

#include <numeric>

namespace fersweep::worker {

TensorDataset to_tensors(const data::ImageSet& set, torch::Device device) {
  const auto n = static_cast<int64_t>(set.size());
  TensorDataset out;
  out.images = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()),
                                {n, 1, set.image_size, set.image_size}, torch::kUInt8)
                   .to(device, /*non_blocking=*/false, /*copy=*/true);
  std::vector<int64_t> labels(set.labels.begin(), set.labels.end());
  out.labels = torch::tensor(labels, torch::kInt64).to(device);
  out.class_names = set.class_names;
  return out;
}

torch::Tensor normalise(const torch::Tensor& images) {
  return images.to(torch::kFloat32).sub_(127.5f).div_(64.0f);
}

torch::Tensor augment(const torch::Tensor& batch, Rng& rng, int max_shift) {
  namespace F = torch::nn::functional;
  const int64_t h = batch.size(2), w = batch.size(3);
  const torch::Tensor padded =
      max_shift > 0 ? F::pad(batch, F::PadFuncOptions({max_shift, max_shift, max_shift, max_shift})
                                        .mode(torch::kReplicate))
                    : batch;
  torch::Tensor out = torch::empty_like(batch);
  const uint64_t positions = 2 * static_cast<uint64_t>(max_shift) + 1;
  for (int64_t i = 0; i < batch.size(0); ++i) {
    const auto dx = static_cast<int64_t>(uniform_index(rng, positions));
    const auto dy = static_cast<int64_t>(uniform_index(rng, positions));
    torch::Tensor crop = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    if (rng() & 1) crop = crop.flip({2});
    out[i].copy_(crop);
  }
  return out;
}

torch::Tensor permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[i], order[uniform_index(rng, static_cast<uint64_t>(i) + 1)]);
  }
  return torch::tensor(order, torch::kInt64);
}

}  // namespace fersweep::worker
