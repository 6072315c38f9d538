#include "worker/predict.h"

#include "data/sources.h"
#include "worker/checkpoint.h"

namespace fersweep::worker {

nlohmann::json export_model_file(const std::string& checkpoint_json, const std::string& out) {
  const LoadedCheckpoint checkpoint = load_checkpoint(checkpoint_json);
  export_model(checkpoint, out);
  return checkpoint.description;
}

Predictions predict_files(const std::string& model_path, const std::vector<std::string>& images,
                          const std::optional<std::string>& crop) {
  const LoadedCheckpoint model = load_exported_model(model_path);
  Predictions out;
  out.description = model.description;
  out.crop = crop.value_or(model.description.at("params").value("crop", std::string("none")));
  out.class_names = model.description.at("class_names").get<std::vector<std::string>>();
  const int size = model.options.image_size;
  const data::SourceImages decoded =
      data::load_image_files(images, size, data::crop_from_string(out.crop));
  out.probabilities = predict_probabilities(*model.model, decoded.pixels.data(),
                                            static_cast<int64_t>(decoded.size()), size);
  return out;
}

}  // namespace fersweep::worker
