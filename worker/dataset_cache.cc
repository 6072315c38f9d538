#include "worker/dataset_cache.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "data/dataset.h"
#include "data/synthetic_faces.h"

namespace fersweep::worker {

void DatasetCache::load(const DataConfig& data, const TrialConfig& trial) {
  nlohmann::json key = data;
  if (!data.synthetic()) key["chosen"] = {trial.sources, trial.grouping, trial.crop};
  if (key == current_) return;
  if (data.synthetic()) {
    generate(data);
  } else {
    load_sources(data, trial);
  }
  current_ = key;
}

double DatasetCache::bytes() const {
  return static_cast<double>(train_.pixels.size() + train_.labels.size() * sizeof(int) +
                             val_.images.nbytes() + val_.labels.nbytes());
}

void DatasetCache::generate(const DataConfig& data) {
  data::SyntheticOptions options;
  options.image_size = data.image_size;
  options.seed = data.seed;
  options.count = data.train_size;
  options.split = 0;
  train_ = data::generate_synthetic_faces(options);
  options.count = data.val_size;
  options.split = 1;
  val_ = to_tensors(data::generate_synthetic_faces(options), device_);
  test_ = TensorDataset{};
}

void DatasetCache::load_sources(const DataConfig& data, const TrialConfig& trial) {
  std::vector<std::pair<std::string, const data::SourceImages*>> chosen;
  skipped_bad_ = 0;
  for (const auto& [name, spec] : data.sources) {
    if (!trial.sources.empty() &&
        std::find(trial.sources.begin(), trial.sources.end(), name) == trial.sources.end()) {
      continue;
    }
    // Everything the decoded images depend on: the source, the size and the crop.
    const std::string decoded_key =
        fmt::format("{}@{}/{}", nlohmann::json(spec).dump(), data.image_size, trial.crop);
    auto it = decoded_.find(decoded_key);
    if (it == decoded_.end()) {
      it = decoded_
               .emplace(decoded_key, data::load_source(spec, data.image_size,
                                                       data::crop_from_string(trial.crop)))
               .first;
    }
    chosen.emplace_back(name, &it->second);
    skipped_bad_ += it->second.skipped_bad;
  }
  data::Splits splits =
      data::make_splits(chosen, data::resolve_grouping(data, trial.grouping), data);
  if (splits.train.size() == 0 || splits.val.size() == 0) {
    throw InputError(
        "data: the chosen sources and grouping leave no training or validation images");
  }
  train_ = std::move(splits.train);
  val_ = to_tensors(splits.val, device_);
  test_ = to_tensors(splits.test, device_);
}

}  // namespace fersweep::worker
