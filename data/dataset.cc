#include "data/dataset.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"

namespace fersweep::data {
namespace {

enum Part { kTrainPart, kValPart, kTestPart };
const char* const kPartNames[] = {"train", "val", "test"};

// FNV-1a: a portable hash of the source's name, so its split never depends on the platform.
uint64_t name_hash(const std::string& name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// split "subject": whole people go to validation or test (val_fraction and test_fraction of the
// source's subjects, shuffled from the seed), so no face is seen in training and judged later.
std::map<std::string, int> parts_of_subjects(const SourceImages& images, const std::string& source,
                                             const DataConfig& config) {
  std::vector<std::string> subjects;
  for (const auto& s : images.subjects) {
    if (!s.empty()) subjects.push_back(s);
  }
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  Rng rng(mix_seed(config.seed, name_hash(source) ^ 0x5B7EC7));
  shuffle(subjects, rng);
  const auto n = static_cast<double>(subjects.size());
  const auto val = static_cast<size_t>(std::lround(n * config.val_fraction));
  const auto test = static_cast<size_t>(std::lround(n * config.test_fraction));
  std::map<std::string, int> parts;
  for (size_t k = 0; k < subjects.size(); ++k) {
    parts[subjects[k]] = k < val ? kValPart : k < val + test ? kTestPart : kTrainPart;
  }
  return parts;
}

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
  for (const auto& [name, images] : sources) {
    if (images->image_size != config.image_size) {
      throw std::invalid_argument("make_splits: source " + name + " has another image size");
    }
    // Per canonical emotion (not per grouped class), the images without a usable hint: which
    // split an image lands in then depends on its source and emotion only, never on the grouping
    // or on the other sources chosen, so trials of one sweep are compared on the same images.
    std::vector<std::vector<size_t>> unhinted(kEmotionCount);
    const std::map<std::string, int> subject_parts = config.split == "subject"
                                                         ? parts_of_subjects(*images, name, config)
                                                         : std::map<std::string, int>();
    for (size_t i = 0; i < images->size(); ++i) {
      const int emotion = images->emotions[i];
      const int label = grouping.class_of[emotion];
      if (label < 0) continue;
      const SplitHint hint = images->hints[i];
      const auto subject = subject_parts.find(images->subjects[i]);
      if (subject != subject_parts.end()) {
        const int part = subject->second;
        append(*parts[part], images->image(i), pixels, label);
        ++out.counts[name][kPartNames[part]][grouping.class_names[label]];
      } else if (config.split == "given" && hint != SplitHint::kNone) {
        const int part = static_cast<int>(hint);
        append(*parts[part], images->image(i), pixels, label);
        ++out.counts[name][kPartNames[part]][grouping.class_names[label]];
      } else {
        unhinted[emotion].push_back(i);
      }
    }
    for (int emotion = 0; emotion < kEmotionCount; ++emotion) {
      std::vector<size_t>& order = unhinted[emotion];
      Rng rng(mix_seed(mix_seed(config.seed, name_hash(name)), static_cast<uint64_t>(emotion)));
      shuffle(order, rng);
      const auto n = static_cast<double>(order.size());
      const size_t val = static_cast<size_t>(std::lround(n * config.val_fraction));
      const size_t test = static_cast<size_t>(std::lround(n * config.test_fraction));
      const int label = grouping.class_of[emotion];
      for (size_t k = 0; k < order.size(); ++k) {
        const int part = k < val ? kValPart : k < val + test ? kTestPart : kTrainPart;
        append(*parts[part], images->image(order[k]), pixels, label);
        ++out.counts[name][kPartNames[part]][grouping.class_names[label]];
      }
    }
  }
  return out;
}

}  // namespace fersweep::data
