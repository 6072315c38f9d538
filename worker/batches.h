#pragma once
// Image sets as tensors, and the stream of training batches: assembled (ordered, augmented,
// normalised) on a helper thread one batch ahead of the training step.
#include <torch/torch.h>

#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "common/random.h"
#include "data/batch_assembly.h"
#include "data/image_set.h"

namespace fersweep::worker {

struct TensorDataset {
  torch::Tensor images;  // uint8 [N, 1, H, W]
  torch::Tensor labels;  // int64 [N]
  std::vector<std::string> class_names;
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// Copies the set into tensors resident on `device`, kept as uint8 to save memory.
TensorDataset to_tensors(const data::ImageSet& set, torch::Device device = torch::kCPU);

// uint8 images -> float, as data::normalise_pixel.
torch::Tensor normalise(const torch::Tensor& images);

struct Batch {
  torch::Tensor images;  // float [n, 1, H, W], normalised
  torch::Tensor labels;  // int64 [n]
};

// Where a BatchStream makes its batches. All three give the same batches: bit for bit, except
// that contrast jitter on the device may differ in a float's last bit (worker/device_augment.h).
enum class Assembly {
  kInline,    // on the host, on the training thread
  kPrefetch,  // on the host, on a helper thread one batch ahead
  // The image set resident on the device as uint8; each batch gathered, augmented and normalised
  // there, so nothing but indices and each sample's drawn augmentation crosses to a GPU per step.
  kOnDevice,
};

// The training batches of successive epochs. The helper thread owns the random stream while it
// assembles, and batches are drawn in order, so results do not depend on thread timing.
class BatchStream {
 public:
  BatchStream(const data::ImageSet& set, int64_t batch_size, data::Augmentation augmentation,
              data::Sampling sampling, uint64_t seed, torch::Device device,
              Assembly assembly = Assembly::kPrefetch);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  int64_t batches_per_epoch() const;
  void start_epoch();  // draws the epoch's order and starts assembling its first batch
  Batch next();        // the epoch's next batch, on the device
  // The random stream between epochs (orders, augmentation draws), as text: a trial's training
  // state holds it, so that a continued trial draws what the uninterrupted one would have.
  std::string random_state() const;
  void restore_random_state(const std::string& state);

 private:
  Batch allocate(int64_t batch) const;  // on the host, pinned when the device is a GPU
  void fill(int64_t batch, Batch& out);
  Batch assemble(int64_t batch);
  void prefetch(int64_t batch);  // starts assembling on the helper thread
  Batch gather_on_device(int64_t batch);

  const data::ImageSet& set_;
  const int64_t batch_size_;
  const data::Augmentation augmentation_;
  const data::Sampling sampling_;
  const torch::Device device_;
  const Assembly assembly_;
  const bool prefetch_;
  torch::Tensor resident_images_;  // kOnDevice: uint8 [N, H, W] on the device
  torch::Tensor resident_labels_;  // kOnDevice: int64 [N] on the device
  Rng rng_;
  std::vector<int64_t> order_;
  int64_t next_batch_ = 0;
  std::future<Batch> pending_;
};

}  // namespace fersweep::worker
