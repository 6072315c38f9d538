#pragma once
// An exported ONNX model read back: its metadata_props (through the ONNX protobuf definitions)
// and its outputs computed by OpenCV's DNN module, an ONNX runtime independent of LibTorch.
// Header free of OpenCV and protobuf.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fersweep::deploy {

// InputError naming the file when it is missing or not an ONNX model.
std::map<std::string, std::string> read_onnx_metadata(const std::string& path);

struct OnnxOutputs {
  int64_t count = 0, classes = 0;
  std::vector<float> logits, probabilities;  // row-major [count][classes]
};

// Runs the model on `count` images of `channels` x `size` x `size` pixel values 0..255, row-major.
// InputError naming the file when OpenCV cannot read or run it.
OnnxOutputs run_onnx_opencv(const std::string& path, const std::vector<float>& pixels,
                            int64_t count, int channels, int size);

}  // namespace fersweep::deploy
