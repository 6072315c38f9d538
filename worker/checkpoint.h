#pragma once
// A trial's best model on disk: `trial_<id>.json`, which holds everything needed to rebuild the
// network and read its output (the trial's params, the model options, the class names, the data
// config, the epoch and metric) and names its weights, `trial_<id>.e<epoch>.pt` (a LibTorch
// archive of the state dict).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"
#include "models/model.h"

namespace fersweep::worker {

// Saves a checkpoint in two steps and returns the .json path. `description` must hold "params",
// "model" and "epoch".
std::string save_checkpoint(const std::string& dir, int64_t trial_id,
                            const models::Classifier& model, const nlohmann::json& description);
// The steps: the weights go to a file of their own for this epoch; the description that names
// them then replaces the previous one (the commit: a temporary file and a rename), and only then
// is the previous epoch's weights file removed. Whenever the process dies, the description on
// disk names weights that exist and belong to it.
std::string write_checkpoint_weights(const std::string& dir, int64_t trial_id, int epoch,
                                     const models::Classifier& model);
std::string commit_checkpoint(const std::string& dir, int64_t trial_id,
                              const std::string& weights_path, const nlohmann::json& description);

// Keeps a trial's best epoch by the sweep's objective as its checkpoint (nothing when the
// assignment names no checkpoint directory).
class BestModelKeeper {
 public:
  BestModelKeeper(const TrialAssignment& assignment, const models::ModelOptions& options,
                  const std::vector<std::string>& class_names);
  void observe(const EpochMetrics& epoch, const models::Classifier& model);
  // The kept checkpoint's .json; empty when none was kept.
  const std::string& path() const { return path_; }
  // The best so far, for a trial's training state: a continued trial keeps improving on it.
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  std::string dir_;
  int64_t trial_id_;
  std::string metric_;
  bool maximize_;
  nlohmann::json description_;
  std::optional<double> best_;
  std::string path_;
};

struct LoadedCheckpoint {
  nlohmann::json description;
  models::ModelOptions options;
  models::Classifier model;  // in eval mode
};

// Throws InputError naming the file when it is missing, unreadable or does not match.
LoadedCheckpoint load_checkpoint(const std::string& json_path);

// Where an exported model keeps its description JSON: a key of the LibTorch archive, and of an
// ONNX model's metadata_props.
inline constexpr const char* kDescriptionKey = "fersweep.description";

// One self-contained file for sharing the winner: the weights and, under kDescriptionKey, the
// description JSON. Written through a temporary name and a rename.
void export_model(const LoadedCheckpoint& checkpoint, const std::string& path);
LoadedCheckpoint load_exported_model(const std::string& path);

// Class probabilities of [N, 1, S, S] uint8 images (as data sets store them), [N][classes].
std::vector<std::vector<double>> predict_probabilities(models::ClassifierImpl& model,
                                                       const uint8_t* images, int64_t count,
                                                       int image_size);

nlohmann::json to_json(const models::ModelOptions& options);
models::ModelOptions model_options_from_json(const nlohmann::json& in);

}  // namespace fersweep::worker
