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

}  // namespace fersweep::parallel
