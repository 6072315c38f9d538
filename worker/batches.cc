#include "worker/batches.h"

#include <cstdint>
#include <span>
#include <sstream>

#include "common/error.h"
#include "worker/device_augment.h"

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
  return images.to(torch::kFloat32).sub_(data::kPixelCentre).div_(data::kPixelScale);
}

BatchStream::BatchStream(const data::ImageSet& set, int64_t batch_size,
                         data::Augmentation augmentation, data::Sampling sampling, uint64_t seed,
                         torch::Device device, Assembly assembly)
    : set_(set),
      batch_size_(batch_size),
      augmentation_(augmentation),
      sampling_(sampling),
      device_(device),
      assembly_(assembly),
      prefetch_(assembly == Assembly::kPrefetch),
      rng_(seed) {
  if (batch_size <= 0) throw std::invalid_argument("BatchStream: batch_size must be positive");
  if (assembly != Assembly::kOnDevice) return;
  const auto n = static_cast<int64_t>(set.size());
  // Copied (clone) even onto the CPU: the stream must not alias the set's vector.
  resident_images_ = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()),
                                      {n, set.image_size, set.image_size}, torch::kUInt8)
                         .to(device)
                         .clone();
  std::vector<int64_t> labels(set.labels.begin(), set.labels.end());
  resident_labels_ = torch::tensor(labels, torch::kInt64).to(device);
}

BatchStream::~BatchStream() {
  // A trial that throws mid-epoch must not leave the helper writing into freed memory.
  if (pending_.valid()) pending_.wait();
}

int64_t BatchStream::batches_per_epoch() const {
  return (static_cast<int64_t>(set_.size()) + batch_size_ - 1) / batch_size_;
}

void BatchStream::start_epoch() {
  if (pending_.valid()) pending_.get();  // the previous epoch was cut short
  order_ = data::epoch_order(set_, sampling_, rng_);
  next_batch_ = 0;
  if (prefetch_ && batches_per_epoch() > 0) prefetch(0);
}

Batch BatchStream::next() {
  if (next_batch_ >= batches_per_epoch()) {
    throw std::logic_error("BatchStream::next: the epoch has no batches left");
  }
  if (assembly_ == Assembly::kOnDevice) return gather_on_device(next_batch_++);
  Batch batch = prefetch_ ? pending_.get() : assemble(next_batch_);
  ++next_batch_;
  if (prefetch_ && next_batch_ < batches_per_epoch()) prefetch(next_batch_);
  if (device_.is_cpu()) return batch;
  return {batch.images.to(device_, /*non_blocking=*/true),
          batch.labels.to(device_, /*non_blocking=*/true)};
}

std::string BatchStream::random_state() const {
  if (pending_.valid()) throw std::logic_error("BatchStream: a batch is still being assembled");
  std::ostringstream out;
  out << rng_;
  return out.str();
}

void BatchStream::restore_random_state(const std::string& state) {
  if (pending_.valid()) throw std::logic_error("BatchStream: a batch is still being assembled");
  std::istringstream in(state);
  in >> rng_;
  if (!in) throw std::runtime_error("training state: the batch stream's random state is damaged");
}

Batch BatchStream::allocate(int64_t batch) const {
  const int64_t count =
      std::min<int64_t>(batch_size_, static_cast<int64_t>(order_.size()) - batch * batch_size_);
  const auto options = torch::TensorOptions().pinned_memory(device_.is_cuda());
  return {
      torch::empty({count, 1, set_.image_size, set_.image_size}, options.dtype(torch::kFloat32)),
      torch::empty({count}, options.dtype(torch::kInt64))};
}

void BatchStream::fill(int64_t batch, Batch& out) {
  const std::span<const int64_t> indices =
      std::span<const int64_t>(order_).subspan(batch * batch_size_, out.labels.size(0));
  data::assemble_batch(set_, indices, augmentation_, rng_, out.images.data_ptr<float>(),
                       out.labels.data_ptr<int64_t>());
}

Batch BatchStream::assemble(int64_t batch) {
  Batch out = allocate(batch);
  fill(batch, out);
  return out;
}

// The same draws as the host paths, in the same order; only they and the indices cross to the
// device.
Batch BatchStream::gather_on_device(int64_t batch) {
  const int64_t first = batch * batch_size_;
  const int64_t count = std::min<int64_t>(batch_size_, static_cast<int64_t>(order_.size()) - first);
  const torch::Tensor index =
      torch::tensor(std::vector<int64_t>(order_.begin() + first, order_.begin() + first + count),
                    torch::kInt64)
          .to(device_, /*non_blocking=*/true);
  const torch::Tensor images = resident_images_.index_select(0, index);
  const torch::Tensor labels = resident_labels_.index_select(0, index);
  if (!augmentation_.enabled) return {normalise(images.unsqueeze(1)), labels};
  const auto draws = draw_samples(augmentation_, set_.image_size, count, rng_);
  return {augment_on_device(images, draws, augmentation_), labels};
}

// The buffers are allocated here, on the training thread, so that the allocator reuses the
// memory the previous batches freed instead of faulting in fresh pages from a helper's arena.
void BatchStream::prefetch(int64_t batch) {
  pending_ = std::async(std::launch::async, [this, batch, out = allocate(batch)]() mutable {
    fill(batch, out);
    return std::move(out);
  });
}

}  // namespace fersweep::worker
