#pragma once
// A trial's best model on disk: `trial_<id>.pt` (LibTorch archive of the state dict) beside
// `trial_<id>.json`, which holds everything needed to rebuild the network and read its output:
// the trial's params, the model options, the class names, the data config, the epoch and metric.
#include <string>
#include <vector>

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

// One self-contained file for sharing the winner: the weights and, under the archive key
// "fersweep.description", the description JSON. Written through a temporary name and a rename.
void export_model(const LoadedCheckpoint& checkpoint, const std::string& path);
LoadedCheckpoint load_exported_model(const std::string& path);

// Class probabilities of [N, 1, S, S] uint8 images (as data sets store them), [N][classes].
std::vector<std::vector<double>> predict_probabilities(models::ClassifierImpl& model,
                                                       const uint8_t* images, int64_t count,
                                                       int image_size);

nlohmann::json to_json(const models::ModelOptions& options);
models::ModelOptions model_options_from_json(const nlohmann::json& in);

}  // namespace fersweep::worker
