#include "data/dataset.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"

namespace fersweep::data {
namespace {

enum Part { kTrainPart, kValPart, kTestPart };
const char* const kPartNames[] = {"train", "val", "test"};

void append(ImageSet& set, const uint8_t* image, size_t pixels, int label) {
  set.pixels.insert(set.pixels.end(), image, image + pixels);
  set.labels.push_back(label);
}

}  // namespace

Grouping resolve_grouping(const DataConfig& config, const std::string& name) {
  for (const Grouping& g : builtin_groupings()) {
    if (g.name == name) return g;
  }
  auto it = config.groupings.find(name);
  if (it == config.groupings.end()) {
    std::vector<std::string> known = builtin_grouping_names();
    for (const auto& [user, classes] : config.groupings) known.push_back(user);
    throw InputError(
        fmt::format("grouping: unknown \"{}\" (known: {})", name, fmt::join(known, ", ")));
  }
  return parse_grouping(name, it->second, "data.groupings." + name);
}

Splits make_splits(const std::vector<std::pair<std::string, const SourceImages*>>& sources,
                   const Grouping& grouping, const DataConfig& config) {
  Splits out;
  for (ImageSet* set : {&out.train, &out.val, &out.test}) {
    set->image_size = config.image_size;
    set->class_names = grouping.class_names;
  }
  ImageSet* parts[] = {&out.train, &out.val, &out.test};
  const size_t pixels = static_cast<size_t>(config.image_size) * config.image_size;
  Rng rng(mix_seed(config.seed, 0x5B117));
  for (const auto& [name, images] : sources) {
    if (images->image_size != config.image_size) {
      throw std::invalid_argument("make_splits: source " + name + " has another image size");
    }
    // Per class, the images without a usable hint, to be split stratified.
    std::vector<std::vector<size_t>> unhinted(grouping.class_names.size());
    for (size_t i = 0; i < images->size(); ++i) {
      const int label = grouping.class_of[images->emotions[i]];
      if (label < 0) continue;
      const SplitHint hint = images->hints[i];
      if (config.split == "given" && hint != SplitHint::kNone) {
        const int part = static_cast<int>(hint);
        append(*parts[part], images->image(i), pixels, label);
        ++out.counts[name][kPartNames[part]][grouping.class_names[label]];
      } else {
        unhinted[label].push_back(i);
      }
    }
    for (size_t label = 0; label < unhinted.size(); ++label) {
      std::vector<size_t>& order = unhinted[label];
      for (size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[uniform_index(rng, i)]);
      const auto n = static_cast<double>(order.size());
      const size_t val = static_cast<size_t>(std::lround(n * config.val_fraction));
      const size_t test = static_cast<size_t>(std::lround(n * config.test_fraction));
      for (size_t k = 0; k < order.size(); ++k) {
        const int part = k < val ? kValPart : k < val + test ? kTestPart : kTrainPart;
        append(*parts[part], images->image(order[k]), pixels, static_cast<int>(label));
        ++out.counts[name][kPartNames[part]][grouping.class_names[label]];
      }
    }
  }
  return out;
}

}  // namespace fersweep::data
