#pragma once
// The worker's narrow public face: a TrialRunner that trains with LibTorch. This header pulls in
// no LibTorch, so the CLI and the coordinator stay cheap to compile.
#include <cstdint>
#include <memory>
#include <string>

#include "comm/placement.h"
#include "common/trial.h"

namespace fersweep::parallel {
class Communicator;
}

namespace fersweep::worker {

struct RunnerOptions {
  // A trial's memory budget when its assignment has none; 0: no check.
  double default_memory_gb = 0;
  Device device;  // comm/placement.h picks it
  // The gang this rank trains with (parallel/gang.h); null: alone.
  std::shared_ptr<parallel::Communicator> gang;
};

// Trains assignments on the options' device, alone or as one rank of a gang (data parallelism:
// docs/PARALLEL.md). Datasets are generated once per data config and kept for the next trial.
// Before training, a trial whose measured memory needs exceed its budget fails with a message
// saying what to shrink.
std::unique_ptr<TrialRunner> make_torch_runner(RunnerOptions options = {});

// GPUs this LibTorch can use here (0 with Debian's CPU-only build).
int cuda_device_count();

// LibTorch intra-op threads for this process. LibTorch's own default here is one thread.
void set_intra_op_threads(int threads);
int intra_op_threads();

// Trainable parameters of the model a config builds, without training it.
int64_t parameter_count(const TrialConfig& config, int num_classes, int image_size);

}  // namespace fersweep::worker
