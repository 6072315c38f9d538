#pragma once
// Collectives among the ranks of a gang (the ranks training one trial together), behind one
// interface with three backends: NCCL for GPU tensors, MPI for CPU tensors (CPU runs and the
// tests), and a size-1 local one. The backend is picked in one place, make_communicator() in
// parallel/gang.h.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fersweep::parallel {

class CommunicatorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A collective in flight.
class PendingSum {
 public:
  virtual ~PendingSum() = default;
  // Blocks until the sum is in the tensor (on a GPU: until the device stream will see it).
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  // Starts summing `tensor` in place across the gang: contiguous float32 on the backend's device.
  // Every rank must start the same sums in the same order.
  virtual std::unique_ptr<PendingSum> start_sum(const torch::Tensor& tensor) = 0;
  // Overwrites `tensor` (contiguous, any dtype) with the root rank's.
  virtual void broadcast(const torch::Tensor& tensor, int root) = 0;

  // Small host-side collectives: agreements and metrics.
  virtual void sum(std::vector<double>& values) = 0;
  virtual void broadcast(std::string& text, int root) = 0;
};

std::unique_ptr<Communicator> make_local_communicator();

// Each rank passes its own failure, if any. When some rank failed, every rank throws the same
// CommunicatorError carrying the failure of the lowest failed rank, so the gang leaves the trial
// together instead of waiting in a collective for a rank that has gone. Collective.
void agree(Communicator& comm, const std::optional<std::string>& local_failure);

// Every parameter and buffer of `module` from `root` to the other ranks.
void broadcast_state(Communicator& comm, torch::nn::Module& module, int root);
// Only the buffers (batch-norm running statistics).
void broadcast_buffers(Communicator& comm, torch::nn::Module& module, int root);

}  // namespace fersweep::parallel
