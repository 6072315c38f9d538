#include "comm/placement.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep {

std::string Device::to_string() const {
  return is_cuda() ? fmt::format("cuda:{}", index) : std::string("cpu");
}

DeviceRequest parse_device_request(const std::string& text) {
  if (text == "auto") return {DeviceRequest::Kind::kAuto};
  if (text == "cpu") return {DeviceRequest::Kind::kCpu};
  if (text == "cuda") return {DeviceRequest::Kind::kCuda};
  constexpr std::string_view kPrefix = "cuda:";
  if (text.starts_with(kPrefix) && text.size() > kPrefix.size()) {
    int index = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data() + kPrefix.size(), end, index);
    if (error == std::errc() && stop == end && index >= 0) {
      return {DeviceRequest::Kind::kCudaIndex, index};
    }
  }
  throw InputError(fmt::format("--device: expected auto, cpu, cuda or cuda:N, got \"{}\"", text));
}

RankPlacement place_rank(const DeviceRequest& request, const NodePlacement& node,
                         const MachineFacts& machine) {
  using Kind = DeviceRequest::Kind;
  RankPlacement placement;
  if (request.kind == Kind::kCpu || (request.kind == Kind::kAuto && machine.gpus == 0)) {
    placement.memory_gb = machine.memory_gb / std::max(1, node.training_ranks);
    return placement;
  }
  if (request.kind == Kind::kCuda && machine.gpus == 0) {
    throw InputError("--device cuda: this LibTorch or machine has no GPU");
  }
  int sharing = 0;
  if (request.kind == Kind::kCudaIndex) {
    if (request.index >= machine.gpus) {
      throw InputError(fmt::format("--device cuda:{}: this LibTorch or machine has {} GPU(s)",
                                   request.index, machine.gpus));
    }
    // One GPU named by --device takes every training rank of the node.
    placement.device = Device::cuda(request.index);
    placement.gpus_in_use = 1;
    sharing = node.training_ranks;
  } else {
    placement.device = Device::cuda(gpu_of(node.training_index, machine.gpus));
    placement.gpus_in_use = machine.gpus;
    sharing = ranks_on_gpu(node.training_ranks, machine.gpus, placement.device.index);
  }
  const std::optional<double> total =
      machine.gpu_memory_gb ? machine.gpu_memory_gb(placement.device.index) : std::nullopt;
  placement.memory_gb = total ? gpu_memory_share_gb(*total, sharing) : 0.0;
  return placement;
}

int default_threads(const NodePlacement& node, const MachineFacts& machine) {
  return std::max(1, machine.hardware_threads / std::max(1, node.training_ranks));
}

int gpu_of(int training_index, int gpus) {
  return training_index % gpus;
}

int ranks_on_gpu(int training_ranks, int gpus, int gpu) {
  return gpus <= 0 ? 0 : training_ranks / gpus + (gpu < training_ranks % gpus ? 1 : 0);
}

std::optional<std::string> packing_problem(int training_ranks, int gpus, int trials_per_gpu) {
  if (gpus <= 0 || training_ranks <= gpus * trials_per_gpu) return std::nullopt;
  return fmt::format(
      "{} training ranks on this node share {} GPU(s), but resources.trials_per_gpu {} allows "
      "{}: start at most {} training ranks per node, or raise trials_per_gpu",
      training_ranks, gpus, trials_per_gpu, gpus * trials_per_gpu, gpus * trials_per_gpu);
}

int idle_slots(int training_ranks, int gpus, int trials_per_gpu) {
  return gpus <= 0 ? 0 : std::max(0, gpus * trials_per_gpu - training_ranks);
}

double gpu_memory_share_gb(double total_gb, int sharing_ranks) {
  const int ranks = std::max(1, sharing_ranks);
  return std::max(0.0, total_gb / ranks - kGpuReservePerRankGb);
}

}  // namespace fersweep
