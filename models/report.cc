#include "models/report.h"

#include "models/model.h"
#include "models/profile.h"

namespace fersweep::models {

ModelReport report_model(const TrialConfig& config, int num_classes, int image_size, int batch,
                         int repeats) {
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
    const StepMeasurement step = measure_training_step(options, batch, repeats);
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
         {"step_peak_bytes", r.step_peak_bytes}};
}

}  // namespace fersweep::models
