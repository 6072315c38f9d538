#pragma once
// Loaders for the on-disk formats of the real data sets. Each reads one source into grayscale
// images of one size with canonical emotion labels (common/emotions.h). Bad input (a missing path,
// a ragged CSV row, an unknown label, an undecodable image) throws InputError naming the file and
// line, unless the source says skip_bad: then the item is skipped and counted.
#include <cstdint>
#include <string>
#include <vector>

#include "common/data_config.h"

namespace fersweep::data {

// Where an image belongs when the source says so: FER2013's Usage column, or a folders source's
// train/val/test directories.
enum class SplitHint : int8_t { kNone = -1, kTrain = 0, kValidation = 1, kTest = 2 };

struct SourceImages {
  int image_size = 0;
  std::vector<uint8_t> pixels;        // image i starts at i * image_size^2
  std::vector<int> emotions;          // canonical labels
  std::vector<std::string> subjects;  // person ids where the format has them (CK+, JAFFE)
  std::vector<SplitHint> hints;
  int skipped_bad = 0;  // with skip_bad
  int no_face = 0;      // crop kFace: images where no face was found (centre-cropped instead)
  int excluded = 0;     // images of classes outside the vocabulary (CK+ contempt)
  std::vector<std::string> problems;  // the first reasons for skipping

  size_t size() const { return emotions.size(); }
  const uint8_t* image(size_t i) const {
    return pixels.data() + i * static_cast<size_t>(image_size) * image_size;
  }
};

// kNone: the image's centre square. kFace: a square around the largest face OpenCV's Haar cascade
// finds (its box widened by a quarter, so that brows and chin stay in), so that sources framed
// differently (JAFFE's wide portraits, FER2013's close crops) meet the network framed alike.
enum class Crop { kNone, kFace };
Crop crop_from_string(const std::string& text);

// Images are cropped to a square and resized (area interpolation) to image_size.
SourceImages load_source(const SourceSpec& source, int image_size, Crop crop = Crop::kNone);

// Single image files (any format OpenCV decodes), prepared exactly as a source's images are, for
// prediction; emotions are unknown (-1). InputError naming the first file that cannot be decoded.
SourceImages load_image_files(const std::vector<std::string>& files, int image_size, Crop crop);

}  // namespace fersweep::data
