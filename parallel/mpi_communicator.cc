#include <fmt/format.h>

#include <cstdint>

#include "parallel/backends.h"

namespace fersweep::parallel {
namespace {

class PendingMpiSum final : public PendingSum {
 public:
  PendingMpiSum(MPI_Request request, torch::Tensor tensor)
      : request_(request), tensor_(std::move(tensor)) {}
  ~PendingMpiSum() override {
    // MPI must see every request completed; a sum abandoned by an exception is finished here.
    if (request_ != MPI_REQUEST_NULL) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  void wait() override { mpi::check(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait"); }

 private:
  MPI_Request request_;
  torch::Tensor tensor_;  // keeps the buffer alive while MPI writes to it
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(const mpi::Comm& gang)
      : comm_(mpi::duplicate(gang)), rank_(comm_.rank()), size_(comm_.size()) {}

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  std::unique_ptr<PendingSum> start_sum(const torch::Tensor& tensor) override {
    if (!tensor.device().is_cpu() || tensor.scalar_type() != torch::kFloat32 ||
        !tensor.is_contiguous()) {
      throw CommunicatorError(fmt::format(
          "MPI communicator: sums contiguous float32 CPU tensors, got {} on {} on gang rank {}",
          c10::toString(tensor.scalar_type()), tensor.device().str(), rank_));
    }
    MPI_Request request = MPI_REQUEST_NULL;
    mpi::check(
        MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr<float>(), static_cast<int>(tensor.numel()),
                       MPI_FLOAT, MPI_SUM, comm_.handle(), &request),
        "MPI_Iallreduce");
    return std::make_unique<PendingMpiSum>(request, tensor);
  }

  void broadcast(const torch::Tensor& tensor, int root) override {
    if (!tensor.device().is_cpu() || !tensor.is_contiguous()) {
      throw CommunicatorError(
          fmt::format("MPI communicator: broadcasts contiguous CPU tensors, got one on {}",
                      tensor.device().str()));
    }
    mpi::broadcast(comm_, tensor.data_ptr(), static_cast<int>(tensor.nbytes()), root);
  }

  void sum(std::vector<double>& values) override { mpi::all_reduce_sum(comm_, values); }

  void broadcast(std::string& text, int root) override {
    std::vector<uint8_t> bytes(text.begin(), text.end());
    mpi::broadcast_bytes(comm_, bytes, root);
    text.assign(bytes.begin(), bytes.end());
  }

 private:
  mpi::OwnedComm comm_;
  int rank_, size_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(const mpi::Comm& gang) {
  return std::make_unique<MpiCommunicator>(gang);
}

}  // namespace fersweep::parallel
