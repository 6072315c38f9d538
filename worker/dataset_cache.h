#pragma once
// The images a worker's trials train and are scored on, kept from trial to trial: a sweep's
// trials mostly share one data config, and a sweep over source subsets and groupings decodes each
// source file once.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/trial.h"
#include "data/image_set.h"
#include "data/sources.h"
#include "worker/batches.h"

namespace fersweep::worker {

class DatasetCache {
 public:
  explicit DatasetCache(torch::Device device) : device_(device) {}

  // Makes the trial's sets current: generated faces, or the chosen sources split and grouped.
  // Throws InputError when the sources and grouping leave no training or validation images.
  void load(const DataConfig& data, const TrialConfig& trial);

  const data::ImageSet& train() const { return train_; }  // on the host: batches come from it
  const TensorDataset& val() const { return val_; }       // on the device
  const TensorDataset& test() const { return test_; }     // empty for synthetic data
  // Bad items the chosen sources skipped (skip_bad).
  int skipped_bad() const { return skipped_bad_; }
  // Host and device bytes the current sets hold, for the memory check.
  double bytes() const;

 private:
  void generate(const DataConfig& data);
  void load_sources(const DataConfig& data, const TrialConfig& trial);

  const torch::Device device_;
  nlohmann::json current_;  // what the current sets were made from
  std::map<std::string, data::SourceImages> decoded_;
  data::ImageSet train_;
  TensorDataset val_, test_;
  int skipped_bad_ = 0;
};

}  // namespace fersweep::worker
