#include "deploy/onnx_runtime.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "common/error.h"

namespace fersweep::deploy {

std::map<std::string, std::string> read_onnx_metadata(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError(fmt::format("{}: no such model file", path));
  }
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in) || !model.has_graph()) {
    throw InputError(fmt::format("{}: not an ONNX model", path));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& entry : model.metadata_props()) metadata[entry.key()] = entry.value();
  return metadata;
}

OnnxOutputs run_onnx_opencv(const std::string& path, const std::vector<float>& pixels,
                            int64_t count, int channels, int size) {
  if (static_cast<int64_t>(pixels.size()) != count * channels * size * size) {
    throw std::invalid_argument("run_onnx_opencv: pixel count does not match the shape");
  }
  OnnxOutputs out;
  out.count = count;
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
    const int dims[] = {static_cast<int>(count), channels, size, size};
    // OpenCV copies the input in setInput; the const_cast only satisfies Mat's constructor.
    const cv::Mat blob(4, dims, CV_32F, const_cast<float*>(pixels.data()));
    net.setInput(blob, "pixels");
    std::vector<cv::Mat> results;
    net.forward(results, std::vector<cv::String>{"logits", "probabilities"});
    const auto flat = [&](const cv::Mat& mat, std::vector<float>& into) {
      const cv::Mat dense = mat.isContinuous() ? mat : mat.clone();
      out.classes = static_cast<int64_t>(dense.total()) / count;
      into.assign(dense.ptr<float>(), dense.ptr<float>() + dense.total());
    };
    flat(results.at(0), out.logits);
    flat(results.at(1), out.probabilities);
  } catch (const cv::Exception& e) {
    throw InputError(fmt::format("{}: OpenCV DNN cannot run the model: {}", path, e.msg));
  }
  return out;
}

}  // namespace fersweep::deploy
