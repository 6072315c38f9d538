// The NCCL backend. It uses the CUDA runtime directly rather than LibTorch's CUDA helpers, so it
// compiles (and links) wherever nccl.h and the CUDA runtime are, even against a CPU-only
// LibTorch. LibTorch's kernels run on the legacy default stream unless a caller picks another,
// so NCCL work is ordered against them with events on that stream: a sum starts once the kernels
// queued before it (the bucket's gradient copies) are done, and later kernels wait for it. The
// CPU only waits while checking for NCCL errors, so a failed or hung peer aborts the
// communicator and fails the trial instead of hanging the job.
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include <fmt/format.h>

#include "parallel/backends.h"

namespace fersweep::parallel {
namespace {

void check_cuda(cudaError_t rc, const char* call, int rank) {
  if (rc == cudaSuccess) return;
  throw CommunicatorError(
      fmt::format("{} failed on gang rank {}: {}", call, rank, cudaGetErrorString(rc)));
}

void check_nccl(ncclResult_t rc, const char* call, int rank) {
  if (rc == ncclSuccess) return;
  throw CommunicatorError(
      fmt::format("{} failed on gang rank {}: {}", call, rank, ncclGetErrorString(rc)));
}

// How long a collective may take before the gang is declared hung.
constexpr auto kCollectiveTimeout = std::chrono::minutes(10);

class NcclCommunicator;

class PendingNcclSum final : public PendingSum {
 public:
  PendingNcclSum(NcclCommunicator& owner, cudaEvent_t done, torch::Tensor tensor)
      : owner_(owner), done_(done), tensor_(std::move(tensor)) {}
  ~PendingNcclSum() override { cudaEventDestroy(done_); }
  void wait() override;

 private:
  NcclCommunicator& owner_;
  cudaEvent_t done_;
  torch::Tensor tensor_;  // keeps the buffer alive while NCCL writes to it
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const mpi::Comm& gang, int device)
      : control_(mpi::duplicate(gang)), rank_(control_.rank()), size_(control_.size()) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice", rank_);
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", rank_);
    mpi::broadcast(control_, &id, sizeof id, 0);
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank", rank_);
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate",
               rank_);
  }
  ~NcclCommunicator() override {
    if (!aborted_) ncclCommDestroy(comm_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  std::unique_ptr<PendingSum> start_sum(const torch::Tensor& tensor) override {
    require_device_tensor(tensor);
    if (tensor.scalar_type() != torch::kFloat32) {
      throw CommunicatorError(fmt::format("NCCL communicator: sums float32 tensors, got {}",
                                          c10::toString(tensor.scalar_type())));
    }
    after_default_stream();
    check_nccl(
        ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                      ncclFloat32, ncclSum, comm_, stream_),
        "ncclAllReduce", rank_);
    return std::make_unique<PendingNcclSum>(*this, record_on_own_stream(), tensor);
  }

  void broadcast(const torch::Tensor& tensor, int root) override {
    require_device_tensor(tensor);
    after_default_stream();
    check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.nbytes(), ncclUint8, root,
                             comm_, stream_),
               "ncclBroadcast", rank_);
    cudaEvent_t done = record_on_own_stream();
    wait_for(done);
    cudaEventDestroy(done);
  }

  void sum(std::vector<double>& values) override { mpi::all_reduce_sum(control_, values); }

  void broadcast(std::string& text, int root) override {
    std::vector<uint8_t> bytes(text.begin(), text.end());
    mpi::broadcast_bytes(control_, bytes, root);
    text.assign(bytes.begin(), bytes.end());
  }

  // Polls `done`, checking NCCL's asynchronous errors; then makes the default stream wait for it.
  void wait_for(cudaEvent_t done) {
    if (aborted_)
      throw CommunicatorError(
          fmt::format("NCCL communicator on gang rank {} was "
                      "aborted by an earlier error",
                      rank_));
    const auto deadline = std::chrono::steady_clock::now() + kCollectiveTimeout;
    for (;;) {
      const cudaError_t state = cudaEventQuery(done);
      if (state == cudaSuccess) break;
      if (state != cudaErrorNotReady) check_cuda(state, "cudaEventQuery", rank_);
      ncclResult_t async_error = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(comm_, &async_error), "ncclCommGetAsyncError", rank_);
      if (async_error != ncclSuccess || std::chrono::steady_clock::now() > deadline) {
        ncclCommAbort(comm_);
        aborted_ = true;
        throw CommunicatorError(fmt::format(
            "NCCL collective on gang rank {} {}; communicator aborted", rank_,
            async_error != ncclSuccess ? std::string("failed: ") + ncclGetErrorString(async_error)
                                       : std::string("timed out")));
      }
      std::this_thread::yield();
    }
    check_cuda(cudaStreamWaitEvent(cudaStreamLegacy, done, 0), "cudaStreamWaitEvent", rank_);
  }

 private:
  void require_device_tensor(const torch::Tensor& tensor) const {
    if (!tensor.is_cuda() || !tensor.is_contiguous()) {
      throw CommunicatorError(fmt::format(
          "NCCL communicator: needs contiguous CUDA tensors, got one on {} on gang rank {}",
          tensor.device().str(), rank_));
    }
  }
  // NCCL's stream waits for everything queued on the default stream so far.
  void after_default_stream() {
    cudaEvent_t queued;
    check_cuda(cudaEventCreateWithFlags(&queued, cudaEventDisableTiming), "cudaEventCreate", rank_);
    check_cuda(cudaEventRecord(queued, cudaStreamLegacy), "cudaEventRecord", rank_);
    check_cuda(cudaStreamWaitEvent(stream_, queued, 0), "cudaStreamWaitEvent", rank_);
    cudaEventDestroy(queued);  // released once the wait has been satisfied
  }
  cudaEvent_t record_on_own_stream() {
    cudaEvent_t done;
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate", rank_);
    check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord", rank_);
    return done;
  }

  mpi::OwnedComm control_;
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool aborted_ = false;
};

void PendingNcclSum::wait() {
  owner_.wait_for(done_);
}

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const mpi::Comm& gang, int cuda_device) {
  return std::make_unique<NcclCommunicator>(gang, cuda_device);
}

bool nccl_available() {
  return true;
}

}  // namespace fersweep::parallel
