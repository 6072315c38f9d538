#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fersweep::data {

// FER2013's label order, the canonical emotion vocabulary of fersweep.
inline const std::vector<std::string>& fer2013_class_names() {
  static const std::vector<std::string> names = {"Angry", "Disgust",  "Fear",   "Happy",
                                                 "Sad",   "Surprise", "Neutral"};
  return names;
}

// Square grayscale images stored contiguously as uint8 (image i starts at i * size * size).
struct ImageSet {
  int image_size = 0;
  std::vector<uint8_t> pixels;
  std::vector<int> labels;
  std::vector<std::string> class_names;
  std::vector<int> people;  // the person in each image, where known (synthetic faces)

  size_t size() const { return labels.size(); }
  size_t pixels_per_image() const { return static_cast<size_t>(image_size) * image_size; }
  const uint8_t* image(size_t i) const { return pixels.data() + i * pixels_per_image(); }
};

}  // namespace fersweep::data
