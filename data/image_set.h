#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/emotions.h"

namespace fersweep::data {

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
