#pragma once
// Image files read and written through OpenCV's imgcodecs, the one place that knows whether this
// build has it (FERSWEEP_IMAGE_FILES; docs/DATA.md). Without it both throw InputError naming the
// file and the option, before touching the file system.
#include <filesystem>

#include <opencv2/core.hpp>

namespace fersweep::data {

// The file decoded as 8-bit grayscale; empty when it cannot be decoded.
cv::Mat read_gray_image(const std::filesystem::path& file);

// Writes `image` in the format its extension names, creating the folders above it.
void write_image(const std::filesystem::path& file, const cv::Mat& image);

}  // namespace fersweep::data
