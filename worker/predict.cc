#include "worker/predict.h"

#include <cstdint>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"
#include "data/sources.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_runtime.h"
#include "worker/checkpoint.h"

namespace fersweep::worker {
namespace {

deploy::OnnxMetadata onnx_metadata(const nlohmann::json& description) {
  const nlohmann::json& options = description.at("model");
  const bool face_crop = description.at("params").value("crop", std::string()) == "face";
  return {{kDescriptionKey, description.dump()},
          {"class_names", description.at("class_names").dump()},
          {"params", description.at("params").dump()},
          {"metrics", description.value("metrics", nlohmann::json::object()).dump()},
          {"input",
           fmt::format("pixels: float [N, {}, {}, {}], grayscale values 0..255, {}, resized; "
                       "the graph normalises them",
                       options.at("in_channels").get<int>(), options.at("image_size").get<int>(),
                       options.at("image_size").get<int>(),
                       face_crop ? "the face cropped (OpenCV's Haar detector)" : "not cropped")},
          {"outputs", "logits and probabilities: float [N, classes], in class_names order"}};
}

}  // namespace

ModelFormat model_format_of(const std::string& path) {
  return path.ends_with(".onnx") ? ModelFormat::kOnnx : ModelFormat::kTorch;
}

nlohmann::json export_model_file(const std::string& checkpoint_json, const std::string& out,
                                 ModelFormat format,
                                 const std::function<nlohmann::json(int epoch)>& metrics_at) {
  LoadedCheckpoint checkpoint = load_checkpoint(checkpoint_json);
  checkpoint.description["metrics"] = metrics_at(checkpoint.description.value("epoch", 0));
  if (format == ModelFormat::kOnnx) {
    deploy::write_onnx_model(*checkpoint.model, checkpoint.options,
                             onnx_metadata(checkpoint.description), out);
  } else {
    export_model(checkpoint, out);
  }
  return checkpoint.description;
}

Predictions predict_files(const std::string& model_path, const std::vector<std::string>& images,
                          const std::optional<std::string>& crop) {
  Predictions out;
  std::optional<LoadedCheckpoint> torch_model;
  if (model_format_of(model_path) == ModelFormat::kOnnx) {
    const auto metadata = deploy::read_onnx_metadata(model_path);
    const auto description = metadata.find(kDescriptionKey);
    if (description == metadata.end()) {
      throw InputError(
          fmt::format("{}: not a model exported by `fersweep export-model` (no {} in its metadata)",
                      model_path, kDescriptionKey));
    }
    out.description = parse_json(description->second, model_path + ": " + kDescriptionKey);
    out.runtime = "opencv-dnn";
  } else {
    torch_model = load_exported_model(model_path);
    out.description = torch_model->description;
    out.runtime = "libtorch";
  }
  int size = 0;
  try {
    out.crop = crop.value_or(out.description.at("params").value("crop", std::string("none")));
    out.class_names = out.description.at("class_names").get<std::vector<std::string>>();
    size = out.description.at("model").at("image_size").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: bad model description ({})", model_path, e.what()));
  }
  const data::SourceImages decoded =
      data::load_image_files(images, size, data::crop_from_string(out.crop));
  const auto count = static_cast<int64_t>(decoded.size());
  if (torch_model) {
    out.probabilities =
        predict_probabilities(*torch_model->model, decoded.pixels.data(), count, size);
    return out;
  }
  const std::vector<float> pixels(decoded.pixels.begin(), decoded.pixels.end());
  const deploy::OnnxOutputs outputs = deploy::run_onnx_opencv(model_path, pixels, count, 1, size);
  if (outputs.classes != static_cast<int64_t>(out.class_names.size())) {
    throw InputError(fmt::format("{}: {} outputs per image for {} class names", model_path,
                                 outputs.classes, out.class_names.size()));
  }
  for (int64_t i = 0; i < count; ++i) {
    const float* row = outputs.probabilities.data() + i * outputs.classes;
    out.probabilities.emplace_back(row, row + outputs.classes);
  }
  return out;
}

}  // namespace fersweep::worker
