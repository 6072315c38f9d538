#include "parallel/gradient_sync.h"

#include <cstdint>

namespace fersweep::parallel {

GradientSync::GradientSync(Communicator& comm, std::vector<torch::Tensor> parameters,
                           Options options)
    : comm_(comm), options_(options) {
  // Backward produces the last layers' gradients first: bucket in reverse so that the first
  // bucket fills first.
  int64_t bucket_bytes = 0;
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    if (!it->requires_grad()) continue;
    const int64_t bytes = it->numel() * static_cast<int64_t>(sizeof(float));
    if (buckets_.empty() || options_.bucket_bytes == 0 ||
        bucket_bytes + bytes > options_.bucket_bytes) {
      buckets_.emplace_back();
      bucket_bytes = 0;
    }
    Slot slot{*it, buckets_.size() - 1, bucket_bytes / static_cast<int64_t>(sizeof(float))};
    buckets_.back().slots.push_back(slots_.size());
    slots_.push_back(std::move(slot));
    bucket_bytes += bytes;
  }
  for (Bucket& bucket : buckets_) {
    const Slot& last = slots_[bucket.slots.back()];
    bucket.flat =
        torch::zeros({last.offset + last.parameter.numel()},
                     last.parameter.options().dtype(torch::kFloat32).requires_grad(false));
  }
  if (!options_.overlap) return;
  for (size_t i = 0; i < slots_.size(); ++i) {
    hooks_.push_back(slots_[i].parameter.register_hook(
        [this, i](const torch::Tensor& gradient) { gradient_ready(i, gradient); }));
  }
}

GradientSync::~GradientSync() {
  for (size_t i = 0; i < hooks_.size(); ++i) slots_[i].parameter.remove_hook(hooks_[i]);
}

torch::Tensor GradientSync::slice(const Slot& slot) {
  return buckets_[slot.bucket].flat.narrow(0, slot.offset, slot.parameter.numel());
}

void GradientSync::begin_step() {
  for (Slot& slot : slots_) slot.ready = false;
  for (Bucket& bucket : buckets_) bucket.ready = 0;
  next_to_start_ = 0;
}

void GradientSync::gradient_ready(size_t index, const torch::Tensor& gradient) {
  Slot& slot = slots_[index];
  if (slot.ready) return;  // a second backward through the same graph: not used here
  torch::NoGradGuard no_grad;
  slice(slot).copy_(gradient.reshape(-1));
  slot.ready = true;
  ++buckets_[slot.bucket].ready;
  start_full_buckets();
}

void GradientSync::start_full_buckets() {
  while (next_to_start_ < buckets_.size() &&
         buckets_[next_to_start_].ready == buckets_[next_to_start_].slots.size()) {
    start(buckets_[next_to_start_++]);
  }
}

void GradientSync::start(Bucket& bucket) {
  bucket.pending = comm_.start_sum(bucket.flat);
}

void GradientSync::finish_step() {
  torch::NoGradGuard no_grad;
  for (; next_to_start_ < buckets_.size(); ++next_to_start_) {
    Bucket& bucket = buckets_[next_to_start_];
    for (size_t index : bucket.slots) {
      Slot& slot = slots_[index];
      if (slot.ready) continue;
      const torch::Tensor& gradient = slot.parameter.grad();
      // Without hooks the gradient is read here; with them, a parameter whose hook did not fire
      // took no part in this step's loss and contributes nothing.
      if (!options_.overlap && gradient.defined()) {
        slice(slot).copy_(gradient.reshape(-1));
      } else {
        slice(slot).zero_();
      }
    }
    start(bucket);
  }
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
    for (size_t index : bucket.slots) {
      Slot& slot = slots_[index];
      const torch::Tensor summed = slice(slot).view_as(slot.parameter);
      torch::Tensor& gradient = slot.parameter.mutable_grad();
      if (gradient.defined()) {
        gradient.copy_(summed);
      } else {
        gradient = summed.clone();
      }
    }
  }
}

}  // namespace fersweep::parallel
