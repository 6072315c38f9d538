#pragma once
// Which GPU a training rank takes, and whether a node's training ranks fit its GPUs: each GPU
// holds `trials_per_gpu` ranks, each training its own trial (a 48x48 network with a million
// parameters cannot fill a large GPU alone). Plain arithmetic, checked before any training.
#include <algorithm>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace fersweep::parallel {

// Round robin over the node's GPUs: ranks spread evenly, and the consecutive ranks of a gang
// land on different GPUs.
inline int gpu_of(int training_index, int gpus) {
  return training_index % gpus;
}

// Why `training_ranks` ranks on one node do not fit `gpus` GPUs at `trials_per_gpu` each, or
// nothing when they fit.
inline std::optional<std::string> packing_problem(int training_ranks, int gpus,
                                                  int trials_per_gpu) {
  if (gpus <= 0 || training_ranks <= gpus * trials_per_gpu) return std::nullopt;
  return fmt::format(
      "{} training ranks on this node share {} GPU(s), but resources.trials_per_gpu {} allows "
      "{}: start at most {} training ranks per node, or raise trials_per_gpu",
      training_ranks, gpus, trials_per_gpu, gpus * trials_per_gpu, gpus * trials_per_gpu);
}

// GPU slots left without a rank on a node, for a note: packing is the point of trials_per_gpu.
inline int idle_slots(int training_ranks, int gpus, int trials_per_gpu) {
  return gpus <= 0 ? 0 : std::max(0, gpus * trials_per_gpu - training_ranks);
}

// Training ranks of a node that gpu_of puts on `gpu`.
inline int ranks_on_gpu(int training_ranks, int gpus, int gpu) {
  return gpus <= 0 ? 0 : training_ranks / gpus + (gpu < training_ranks % gpus ? 1 : 0);
}

// Outside the caching allocator that the trial's memory estimate covers, each process's CUDA
// context, cuBLAS and cuDNN workspaces take about this much of the GPU.
inline constexpr double kGpuReservePerRankGb = 1.0;

// The default memory budget of one of `sharing_ranks` ranks on a GPU of `total_gb`: an equal
// share of what their contexts leave (0 when nothing is left, which refuses every trial).
inline double gpu_memory_share_gb(double total_gb, int sharing_ranks) {
  const int ranks = std::max(1, sharing_ranks);
  return std::max(0.0, total_gb / ranks - kGpuReservePerRankGb);
}

}  // namespace fersweep::parallel
