#include "parallel/communicator.h"

#include <fmt/format.h>

namespace fersweep::parallel {
namespace {

class PendingNothing final : public PendingSum {
 public:
  void wait() override {}
};

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  std::unique_ptr<PendingSum> start_sum(const torch::Tensor&) override {
    return std::make_unique<PendingNothing>();
  }
  void broadcast(const torch::Tensor&, int) override {}
  void sum(std::vector<double>&) override {}
  void broadcast(std::string&, int) override {}
};

// Channels-last weights (models::use_channels_last) are dense but not contiguous in the NCHW
// sense the backends accept; they travel as an NCHW copy.
void broadcast_dense(Communicator& comm, const torch::Tensor& tensor, int root) {
  if (tensor.is_contiguous()) {
    comm.broadcast(tensor, root);
    return;
  }
  const torch::Tensor copy = tensor.contiguous();
  comm.broadcast(copy, root);
  tensor.copy_(copy);
}

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalCommunicator>();
}

void agree(Communicator& comm, const std::optional<std::string>& local_failure) {
  std::vector<double> failed(static_cast<size_t>(comm.size()), 0.0);
  if (local_failure) failed[static_cast<size_t>(comm.rank())] = 1.0;
  comm.sum(failed);
  const auto first = std::find_if(failed.begin(), failed.end(), [](double f) { return f > 0; });
  if (first == failed.end()) return;
  const int failed_rank = static_cast<int>(first - failed.begin());
  std::string text = comm.rank() == failed_rank ? *local_failure : std::string();
  comm.broadcast(text, failed_rank);
  throw CommunicatorError(failed_rank == 0 ? text
                                           : fmt::format("gang rank {}: {}", failed_rank, text));
}

void broadcast_state(Communicator& comm, torch::nn::Module& module, int root) {
  if (comm.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& parameter : module.parameters()) broadcast_dense(comm, parameter, root);
  broadcast_buffers(comm, module, root);
}

void broadcast_buffers(Communicator& comm, torch::nn::Module& module, int root) {
  if (comm.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& buffer : module.buffers()) broadcast_dense(comm, buffer, root);
}

}  // namespace fersweep::parallel
