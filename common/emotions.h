#pragma once
// One emotion vocabulary for every source, and class groupings on top of it (namespace data: the
// labels of the data sets; plain C++, so that the spec reader checks groupings without OpenCV). The
// canonical classes are FER2013's seven, in its label order; CK+'s contempt has no FER2013 class
// and is excluded at loading (counted, never relabelled).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep::data {

// FER2013's label order, the canonical emotion vocabulary of fersweep.
inline const std::vector<std::string>& fer2013_class_names() {
  static const std::vector<std::string> names = {"Angry", "Disgust",  "Fear",   "Happy",
                                                 "Sad",   "Surprise", "Neutral"};
  return names;
}

enum Emotion { kAngry, kDisgust, kFear, kHappy, kSad, kSurprise, kNeutral, kEmotionCount };

// "Angry", "Disgust", ... in label order (the same as fer2013_class_names()).
const std::string& emotion_name(int emotion);
// Case-insensitive names and the usual spellings of the data sets ("anger", "disgusted",
// "afraid", "happiness", "sadness", "surprised", ...); nullopt when unknown.
std::optional<int> emotion_from_name(const std::string& name);

// Maps each canonical emotion to a class of the trial, or drops it (-1).
struct Grouping {
  std::string name;
  std::vector<std::string> class_names;
  std::vector<int> class_of;  // kEmotionCount entries: class index or -1

  int num_classes() const { return static_cast<int>(class_names.size()); }
};

// fer7 (the seven emotions), merge_anger_disgust (six: "Angry+Disgust" first), no_disgust (six).
const std::vector<Grouping>& builtin_groupings();
// A user grouping from the spec: {"Negative": ["Angry", "Disgust"], "Happy": ["Happy"], ...}.
// Emotions not listed are dropped. Errors name `path`.
Grouping parse_grouping(const std::string& name, const nlohmann::json& classes,
                        const std::string& path);

}  // namespace fersweep::data
