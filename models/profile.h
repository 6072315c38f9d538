#pragma once
// What a model costs before anyone trains it: parameters, forward FLOPs, the memory a training
// step needs, and the time of one step on this machine. All measured on the real module:
// FLOPs by observing the convolutions and linear layers it runs, memory by counting what
// LibTorch's allocator hands out during a forward and backward pass (the CPU allocator, or on a
// GPU the CUDA caching allocator's statistics).
#include <cstdint>
#include <string>

#include "common/trial.h"
#include "models/model.h"

namespace fersweep::models {

struct ModelCost {
  int64_t parameters = 0;  // trainable
  int64_t buffers = 0;     // elements of batch-norm statistics and counters
  // 2 x multiply-accumulates of every convolution and linear layer for one image, as in
  // torchvision's published GFLOPS (which count multiply-accumulates).
  double forward_flops = 0;
  // Training memory: fixed_bytes (weights, gradients) plus bytes_per_image for every image of the
  // batch (activations kept for the backward pass), from two measured batch sizes.
  double fixed_bytes = 0;
  double bytes_per_image = 0;

  // Weights, gradients, optimizer state (`optimizer_slots` tensors per weight: Adam 2, SGD with
  // momentum 1) and activations for a batch of `batch` images.
  double training_bytes(int batch, int optimizer_slots) const;
  // The largest batch whose training_bytes fit `budget_bytes`; 0 when none does.
  int largest_batch(double budget_bytes, int optimizer_slots) const;
};

// Memory is measured on `device`: a trial checks its budget where it will train.
ModelCost measure_cost(const ModelOptions& options, const torch::Device& device = torch::kCPU);
// ModelCost's parameters and forward_flops alone, from one model, without the memory
// measurement's training passes.
struct ModelSize {
  int64_t parameters = 0;
  double forward_flops = 0;
};
ModelSize measure_size(const ModelOptions& options);
double forward_flops(const ModelOptions& options);

struct StepMeasurement {
  int batch = 0;
  double seconds = 0;     // median forward + backward + Adam step
  double peak_bytes = 0;  // tensor memory at the step's peak, weights and Adam state included
};

// Times `repeats` training steps (after one warm-up) on random images. With `trace_path`, runs
// `repeats` more under LibTorch's profiler afterwards, so that its overhead stays out of the
// timing, and writes their operators there as a Chrome trace (chrome://tracing, Perfetto).
StepMeasurement measure_training_step(const ModelOptions& options, int batch, int repeats,
                                      const std::string& trace_path = "");

// Median milliseconds of one forward pass of a batch of random images, for each size in
// `batches`, in evaluation mode and without gradients, in the layout the worker trains in, after
// one warm-up per size: a deployed model's latency. One model serves every size.
std::vector<double> measure_inference_ms(const ModelOptions& options,
                                         const std::vector<int>& batches, int repeats,
                                         const torch::Device& device = torch::kCPU);

// Optimizer state tensors per weight: adam/adamw 2, sgd 1 with momentum, else 0.
int optimizer_slots(Optimizer optimizer, double momentum);

}  // namespace fersweep::models
