#pragma once
// Where a training rank trains, with how many threads, and how much memory a trial there may
// plan for: the one place that turns --device, --threads, the node's ranks and the machine's
// GPUs into a placement. Plain arithmetic over facts the caller gathers, so that every case,
// GPU nodes included, is tested on a CPU with an injected machine.
//
// GPUs are shared round robin: each GPU holds `trials_per_gpu` ranks, each training its own trial
// (a 48x48 network with a million parameters cannot fill a large GPU alone), and the consecutive
// ranks of a gang land on different GPUs.
#include <functional>
#include <optional>
#include <string>

namespace fersweep {

struct Device {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;  // the GPU, for kCuda

  static Device cpu() { return {}; }
  static Device cuda(int index) { return {Kind::kCuda, index}; }
  bool is_cuda() const { return kind == Kind::kCuda; }
  std::string to_string() const;  // "cpu" or "cuda:N"
  bool operator==(const Device&) const = default;
};

// What --device asks for: auto (a GPU picked by the rank's place on its node where there are
// GPUs, else the CPU), cpu, cuda (the same pick, but no GPU is an error) or cuda:N.
struct DeviceRequest {
  enum class Kind { kAuto, kCpu, kCuda, kCudaIndex };
  Kind kind = Kind::kAuto;
  int index = 0;  // kCudaIndex
};
// InputError naming --device for anything else.
DeviceRequest parse_device_request(const std::string& text);

// What a node has, as the caller found it.
struct MachineFacts {
  int gpus = 0;          // GPUs this LibTorch can use (0 with a CPU-only build)
  double memory_gb = 0;  // physical memory
  int hardware_threads = 1;
  // Total memory of GPU i in GiB, where the CUDA runtime says; null or nothing: unknown.
  std::function<std::optional<double>(int gpu)> gpu_memory_gb;
};

// Where this rank sits among the ranks that train on its node.
struct NodePlacement {
  int training_ranks = 1;  // training ranks on this node
  int training_index = 0;  // this rank's position among them, from 0 (picks its GPU)
};

struct RankPlacement {
  Device device;
  int gpus_in_use = 0;  // GPUs the node's training ranks spread over: 0 on the CPU
  // A trial's memory budget unless the spec sets resources.memory_gb: this rank's share of the
  // node's memory on the CPU, or of its GPU's; 0 (no check) where the GPU's size is unknown.
  double memory_gb = 0;
};

// InputError naming --device when the request cannot be met on this machine.
RankPlacement place_rank(const DeviceRequest& request, const NodePlacement& node,
                         const MachineFacts& machine);

// LibTorch intra-op threads per training rank: the node's hardware threads shared by its training
// ranks, at least one.
int default_threads(const NodePlacement& node, const MachineFacts& machine);

// Round robin over the node's GPUs.
int gpu_of(int training_index, int gpus);
// Training ranks of a node that gpu_of puts on `gpu`.
int ranks_on_gpu(int training_ranks, int gpus, int gpu);

// Why `training_ranks` ranks on one node do not fit `gpus` GPUs at `trials_per_gpu` each, or
// nothing when they fit.
std::optional<std::string> packing_problem(int training_ranks, int gpus, int trials_per_gpu);
// GPU slots left without a rank on a node, for a note: packing is the point of trials_per_gpu.
int idle_slots(int training_ranks, int gpus, int trials_per_gpu);

// Outside the caching allocator that the trial's memory estimate covers, each process's CUDA
// context, cuBLAS and cuDNN workspaces take about this much of the GPU.
inline constexpr double kGpuReservePerRankGb = 1.0;
// The default memory budget of one of `sharing_ranks` ranks on a GPU of `total_gb`: an equal
// share of what their contexts leave (0 when nothing is left, which refuses every trial).
double gpu_memory_share_gb(double total_gb, int sharing_ranks);

}  // namespace fersweep
