#pragma once
// Using a sweep's winner, through a header free of LibTorch: export a trial's checkpoint as one
// file, and classify image files with it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep::worker {

enum class ModelFormat {
  kTorch,  // a LibTorch archive with the description: what `predict` reads fastest
  kOnnx,   // ONNX (deploy/onnx_export.h), the description in its metadata_props
};

// The format a model file's name implies: kOnnx for *.onnx, else kTorch.
ModelFormat model_format_of(const std::string& path);

// Rebuilds the model of a checkpoint description (`trial_<id>.json`) and writes it, weights and
// description together, to `out`. The trial's metrics at the checkpoint's epoch, from
// `metrics_at(epoch)`, join the description. Returns the description.
nlohmann::json export_model_file(const std::string& checkpoint_json, const std::string& out,
                                 ModelFormat format,
                                 const std::function<nlohmann::json(int epoch)>& metrics_at);

struct Predictions {
  nlohmann::json description;  // of the exported model
  std::string runtime;         // "libtorch", or "opencv-dnn" for an .onnx model
  std::string crop;            // what was applied: the trial's crop unless overridden
  std::vector<std::string> class_names;
  std::vector<std::vector<double>> probabilities;  // per image, per class
};

// Decodes each image as the trial's data was prepared (grayscale, crop, resize to its size) and
// returns the class probabilities. `crop` overrides the trial's own ("none" or "face"). A model
// file named *.onnx runs in OpenCV's DNN module, any other is read as a LibTorch export.
Predictions predict_files(const std::string& model_path, const std::vector<std::string>& images,
                          const std::optional<std::string>& crop);

}  // namespace fersweep::worker
