#pragma once
// What a sweep trains on, as the spec's "data" object says: the built-in synthetic faces, or
// named sources in the real on-disk formats (loaded by data/sources.h), user class groupings, and
// how to split. Plain data with JSON codecs; the loaders live in data/.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep {

struct SourceSpec {
  std::string name;    // as the spec names it, e.g. "fer"
  std::string format;  // fer2013 | ckplus | jaffe | folders
  std::string path;    // fer2013: the CSV file; others: the root directory
  bool skip_bad = false;
  int peak_frames = 3;              // ckplus: labelled frames taken from each sequence's end
  bool first_frame_neutral = true;  // ckplus: each sequence's first frame as Neutral
};

struct DataConfig {
  // synthetic: train_size and val_size generated faces. Otherwise `sources` are loaded and split.
  std::string source = "synthetic";
  int train_size = 2400;
  int val_size = 600;
  int image_size = 48;
  uint64_t seed = 1;
  std::map<std::string, SourceSpec> sources;
  std::map<std::string, nlohmann::json> groupings;  // user groupings: class -> emotions
  // stratified | given (FER2013 Usage, folders' train/val/test) | subject (whole people held out)
  std::string split = "stratified";
  double val_fraction = 0.15, test_fraction = 0.15;

  bool synthetic() const { return sources.empty(); }
  // Reads the spec's "data" object strictly; errors name `path`.
  static DataConfig from_spec(const nlohmann::json& object, const std::string& path);
  // Every source's path exists and has its format's kind (a file for fer2013, a directory
  // otherwise); InputError naming `<path>.sources.NAME.path` otherwise. Relative paths are taken
  // from the working directory, as the loaders take them.
  void check_paths(const std::string& path) const;
};

// The formats a source may have, and the class groupings every sweep knows (common/emotions.h).
const std::vector<std::string>& source_formats();
const std::vector<std::string>& builtin_grouping_names();

void to_json(nlohmann::json& out, const SourceSpec& source);
void from_json(const nlohmann::json& in, SourceSpec& source);
void to_json(nlohmann::json& out, const DataConfig& data);
void from_json(const nlohmann::json& in, DataConfig& data);

}  // namespace fersweep
