#pragma once
// How much memory a GPU has, for the default per-trial memory budget (comm/placement.h).
// Asked of the CUDA runtime directly, so that it builds beside a CPU-only LibTorch too.
#include <optional>

namespace fersweep::parallel {

// Total memory of CUDA device `index` in GiB; nothing where this build has no CUDA runtime.
// Throws std::runtime_error naming the call when the runtime reports an error.
std::optional<double> gpu_total_memory_gb(int index);

}  // namespace fersweep::parallel
