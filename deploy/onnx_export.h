#pragma once
// A trained classifier as one ONNX file, for runtimes that know nothing of fersweep (onnxruntime
// in Python, C++ or the browser; OpenCV's DNN module).
//
// The graph, opset 10:
//   input  "pixels"         float [N, in_channels, S, S]: grayscale pixel values 0..255, exactly
//                           as decoded (the normalisation is part of the graph, so no runtime can
//                           get it wrong);
//   output "logits"         float [N, classes];
//   output "probabilities"  float [N, classes], the softmax of the logits.
// N is dynamic. The network is in inference form: no dropout or stochastic depth, and every
// batch-norm folded into the convolution or linear layer before it (exact to float rounding: the
// fold is computed in double).
#include <string>
#include <utility>
#include <vector>

namespace fersweep::models {
class ClassifierImpl;
struct ModelOptions;
}  // namespace fersweep::models

namespace fersweep::deploy {

// Opset 10 is the newest whose Clip (ReLU6) OpenCV's DNN importer reads before 4.7: opset 11 moved
// Clip's bounds from attributes to inputs, and Debian 12's OpenCV 4.6 rejects those. Nothing
// these networks need came later, and onnxruntime (CPU, web) reads every opset from 7 on.
inline constexpr int kOnnxOpset = 10;

// Key-value pairs stored in the model's metadata_props (e.g. "fersweep.description" -> JSON).
using OnnxMetadata = std::vector<std::pair<std::string, std::string>>;

// Builds the graph and checks it with onnx::checker (a failure there is a bug: std::logic_error),
// then writes it through a temporary name and a rename. InputError naming `path` when it cannot
// be written.
void write_onnx_model(const models::ClassifierImpl& model, const models::ModelOptions& options,
                      const OnnxMetadata& metadata, const std::string& path);

}  // namespace fersweep::deploy
