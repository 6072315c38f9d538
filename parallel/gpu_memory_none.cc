// Stands in for gpu_memory.cc where the build found no CUDA runtime.
#include "parallel/gpu_memory.h"

namespace fersweep::parallel {

std::optional<double> gpu_total_memory_gb(int) {
  return std::nullopt;
}

}  // namespace fersweep::parallel
