#include "data/image_files.h"

#include "common/error.h"

#if FERSWEEP_IMAGE_FILES
#include <opencv2/imgcodecs.hpp>

namespace fersweep::data {

cv::Mat read_gray_image(const std::filesystem::path& file) {
  return cv::imread(file.string(), cv::IMREAD_GRAYSCALE);
}

void write_image(const std::filesystem::path& file, const cv::Mat& image) {
  std::filesystem::create_directories(file.parent_path());
  if (!cv::imwrite(file.string(), image)) throw InputError(file.string() + ": cannot write");
}

}  // namespace fersweep::data

#else

namespace fersweep::data {
namespace {

[[noreturn]] void refuse(const std::filesystem::path& file) {
  throw InputError(file.string() +
                   ": this fersweep was built without image files (FERSWEEP_IMAGE_FILES=OFF)");
}

}  // namespace

cv::Mat read_gray_image(const std::filesystem::path& file) {
  refuse(file);
}

void write_image(const std::filesystem::path& file, const cv::Mat&) {
  refuse(file);
}

}  // namespace fersweep::data

#endif
