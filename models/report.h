#pragma once
// The cost of one network configuration, behind a header without LibTorch so that the CLI can
// print it cheaply: what `fersweep models` shows and docs/MODELS.md tabulates.
#include <cstdint>
#include <string>

#include "common/trial.h"

namespace fersweep::models {

struct ModelReport {
  std::string arch, stem;  // stem "-" for vgg_custom, which has none
  int image_size = 0, num_classes = 0;
  int64_t parameters = 0;      // trainable
  int64_t buffers = 0;         // elements of batch-norm statistics
  double forward_flops = 0;    // per image: 2 x multiply-accumulates of convs and linears
  double bytes_per_image = 0;  // training activations kept for backward, per image
  double fixed_bytes = 0;      // weights and gradients
  int batch = 0;               // of the timed step; 0 when not timed
  double step_seconds = 0;     // forward + backward + Adam step, median
  double step_peak_bytes = 0;  // tensor memory at the step's peak
  // The process's peak resident memory over the timed steps (Linux VmHWM, reset before them):
  // what a worker training this network at this batch needs, LibTorch itself included. 0 where
  // it cannot be read.
  double step_peak_rss_bytes = 0;
};

// Measures the network `config` builds for `num_classes` classes at `image_size` px, timing
// `repeats` training steps of `batch` images unless `batch` is 0, and tracing as many more into
// `trace_path` when it is given (measure_training_step).
ModelReport report_model(const TrialConfig& config, int num_classes, int image_size, int batch,
                         int repeats, const std::string& trace_path = "");

void to_json(nlohmann::json& out, const ModelReport& report);

}  // namespace fersweep::models
