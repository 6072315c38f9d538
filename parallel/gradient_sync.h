#pragma once
// Gradient synchronisation for data-parallel training, as PyTorch DDP does it: parameters are
// packed, last layer first, into flat buckets of at most `bucket_bytes`; during backward a hook
// copies each gradient into its bucket, and a full bucket starts its sum across the gang at once,
// overlapping the rest of the backward pass (on a GPU; MPI on a CPU progresses it at the waits).
// Buckets start strictly in order, so every rank issues the same collectives in the same order.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "parallel/communicator.h"

namespace fersweep::parallel {

class GradientSync {
 public:
  struct Options {
    int64_t bucket_bytes = 25LL << 20;  // 0: one bucket per parameter
    bool overlap = true;                // false: copy and sum everything after backward
  };

  // Registers hooks on `parameters`; they are removed again with this object.
  GradientSync(Communicator& comm, std::vector<torch::Tensor> parameters, Options options);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Call before backward.
  void begin_step();
  // Call after backward, also after one that failed: starts the buckets not started yet (a
  // parameter without a gradient contributes zeros), waits for all, and leaves the gang's sum of
  // the gradients in every parameter's .grad.
  void finish_step();

  size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Slot {
    torch::Tensor parameter;
    size_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> slots;
    size_t ready = 0;
    std::unique_ptr<PendingSum> pending;
  };
  void gradient_ready(size_t slot, const torch::Tensor& gradient);
  void start_full_buckets();
  void start(Bucket& bucket);
  torch::Tensor slice(const Slot& slot);

  Communicator& comm_;
  Options options_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  size_t next_to_start_ = 0;
  std::vector<unsigned> hooks_;  // per slot, when overlapping
};

}  // namespace fersweep::parallel
