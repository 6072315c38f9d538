#pragma once
// The worker's narrow public face: a TrialRunner that trains with LibTorch. This header pulls in
// no LibTorch, so the CLI and the coordinator stay cheap to compile.
#include <memory>

#include "common/trial.h"

namespace fersweep::worker {

// Trains assignments on the CPU (the only device of Debian's LibTorch). Datasets are generated
// once per data config and kept for the next trial. Before training, a trial whose measured
// memory needs exceed its budget (the assignment's memory_gb, else `default_memory_gb`; 0: no
// check) fails with a message saying what to shrink.
std::unique_ptr<TrialRunner> make_torch_runner(double default_memory_gb = 0);

// LibTorch intra-op threads for this process. LibTorch's own default here is one thread.
void set_intra_op_threads(int threads);
int intra_op_threads();

// Trainable parameters of the model a config builds, without training it.
int64_t parameter_count(const TrialConfig& config, int num_classes, int image_size);

}  // namespace fersweep::worker
