#include "parallel/gpu_memory.h"

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <stdexcept>

namespace fersweep::parallel {

// The device's properties, not cudaMemGetInfo: that needs the device made current, and the free
// figure depends on which of the GPU's other ranks have started.
std::optional<double> gpu_total_memory_gb(int index) {
  cudaDeviceProp properties{};
  if (const cudaError_t rc = cudaGetDeviceProperties(&properties, index); rc != cudaSuccess) {
    throw std::runtime_error(
        fmt::format("cudaGetDeviceProperties({}) failed: {}", index, cudaGetErrorString(rc)));
  }
  return static_cast<double>(properties.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
}

}  // namespace fersweep::parallel
