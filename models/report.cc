#include "models/report.h"

#include <malloc.h>

#include <fstream>
#include <string>

#include "models/model.h"
#include "models/profile.h"

namespace fersweep::models {

namespace {

// Returns freed heap pages to the system first, so that a model measured after a larger one is
// not charged for memory the allocator kept; then restarts the kernel's peak (VmHWM).
void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

double peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;  // in kB
  }
  return 0;
}

}  // namespace

ModelReport report_model(const TrialConfig& config, int num_classes, int image_size, int batch,
                         int repeats, const std::string& trace_path) {
  const ModelOptions options = model_options(config, num_classes, image_size);
  const ModelCost cost = measure_cost(options);
  ModelReport r;
  r.arch = config.arch;
  r.stem = config.arch == "vgg_custom" ? "-" : config.stem;  // it has no ImageNet stem
  r.image_size = image_size;
  r.num_classes = num_classes;
  r.parameters = cost.parameters;
  r.buffers = cost.buffers;
  r.forward_flops = cost.forward_flops;
  r.bytes_per_image = cost.bytes_per_image;
  r.fixed_bytes = cost.fixed_bytes;
  if (batch > 0) {
    reset_peak_rss();
    const StepMeasurement step = measure_training_step(options, batch, repeats, trace_path);
    r.step_peak_rss_bytes = peak_rss_bytes();
    r.batch = batch;
    r.step_seconds = step.seconds;
    r.step_peak_bytes = step.peak_bytes;
  }
  return r;
}

void to_json(nlohmann::json& out, const ModelReport& r) {
  out = {{"arch", r.arch},
         {"stem", r.stem},
         {"image_size", r.image_size},
         {"num_classes", r.num_classes},
         {"parameters", r.parameters},
         {"buffers", r.buffers},
         {"forward_flops", r.forward_flops},
         {"training_bytes_per_image", r.bytes_per_image},
         {"fixed_training_bytes", r.fixed_bytes},
         {"batch", r.batch},
         {"step_seconds", r.step_seconds},
         {"step_peak_bytes", r.step_peak_bytes},
         {"step_peak_rss_bytes", r.step_peak_rss_bytes}};
}

}  // namespace fersweep::models
