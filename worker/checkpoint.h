#pragma once
// A trial's best model on disk: `trial_<id>.pt` (LibTorch archive of the state dict) beside
// `trial_<id>.json`, which holds everything needed to rebuild the network and read its output:
// the trial's params, the model options, the class names, the data config, the epoch and metric.
#include <string>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace fersweep::worker {

// Writes both files through temporary names and renames, so a reader never sees half a
// checkpoint; returns the .json path. `description` must hold "params" and "model".
std::string save_checkpoint(const std::string& dir, int64_t trial_id,
                            const models::Classifier& model, const nlohmann::json& description);

struct LoadedCheckpoint {
  nlohmann::json description;
  models::ModelOptions options;
  models::Classifier model;  // in eval mode
};

// Throws InputError naming the file when it is missing, unreadable or does not match.
LoadedCheckpoint load_checkpoint(const std::string& json_path);

nlohmann::json to_json(const models::ModelOptions& options);
models::ModelOptions model_options_from_json(const nlohmann::json& in);

}  // namespace fersweep::worker
