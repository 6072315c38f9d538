#pragma once
// From loaded sources to a trial's train / validation / test sets: keep the chosen sources, map
// emotions through the class grouping (dropping what it leaves out), and split deterministically
// from the seed: stratified per class, or as the sources say (FER2013 Usage, folders' train/,
// val/, test/), with images that carry no hint split stratified.
#include <map>
#include <string>
#include <vector>

#include "common/data_config.h"
#include "common/emotions.h"
#include "data/image_set.h"
#include "data/sources.h"

namespace fersweep::data {

struct Splits {
  ImageSet train, val, test;
  // Images per source name, split ("train", "val", "test") and class name: `fersweep data inspect`.
  std::map<std::string, std::map<std::string, std::map<std::string, int>>> counts;
};

// The grouping by name: built-in, or one of `config.groupings`. InputError when unknown.
Grouping resolve_grouping(const DataConfig& config, const std::string& name);

// `sources` are (name, images) pairs, all at one image size.
Splits make_splits(const std::vector<std::pair<std::string, const SourceImages*>>& sources,
                   const Grouping& grouping, const DataConfig& config);

}  // namespace fersweep::data
