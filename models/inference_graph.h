#pragma once
// What a network computes at inference, layer by layer, for exporters (ONNX). Each architecture
// describes its own layers beside its forward(), so that a layout lives in one file and an
// exporter needs no copy of it; the exported model's outputs are checked against forward() in
// tests. Dropout and stochastic depth are identities at inference and are not described. A
// batch-norm is handed over with the convolution or linear layer it follows, in eval mode (its
// running statistics), so that an exporter can fold it into that layer's weights.
#include <torch/torch.h>

#include <string>

namespace fersweep::models {

using GraphValue = std::string;  // a tensor's name in the exported graph

enum class Pointwise { kReLU, kReLU6, kSiLU, kSigmoid };

class GraphWriter {
 public:
  virtual ~GraphWriter() = default;
  virtual GraphValue conv(const GraphValue& x, const torch::nn::Conv2dImpl& conv,
                          const torch::nn::BatchNorm2dImpl* norm) = 0;
  virtual GraphValue linear(const GraphValue& x, const torch::nn::LinearImpl& linear,
                            const torch::nn::BatchNorm1dImpl* norm) = 0;
  virtual GraphValue pointwise(const GraphValue& x, Pointwise op) = 0;
  virtual GraphValue max_pool(const GraphValue& x, int kernel, int stride, int padding) = 0;
  // [N, C, H, W] -> [N, C, 1, 1]
  virtual GraphValue global_average_pool(const GraphValue& x) = 0;
  // torch's adaptive_avg_pool2d of a [N, channels, from, from] tensor to [N, channels, to, to].
  virtual GraphValue adaptive_average_pool(const GraphValue& x, int channels, int from, int to) = 0;
  virtual GraphValue flatten(const GraphValue& x) = 0;  // [N, ...] -> [N, rest]
  virtual GraphValue add(const GraphValue& a, const GraphValue& b) = 0;
  // Element-wise, broadcasting [N, C, 1, 1] over [N, C, H, W].
  virtual GraphValue multiply(const GraphValue& a, const GraphValue& b) = 0;
};

// A layer that can say what it computes at inference.
class DescribedLayer {
 public:
  virtual ~DescribedLayer() = default;
  virtual GraphValue describe(GraphWriter& graph, const GraphValue& x) const = 0;
};

// Describes a Sequential's children in order: Conv2d (taking a BatchNorm2d right after it),
// Linear (taking a BatchNorm1d), ReLU, ReLU6, SiLU, MaxPool2d, Dropout (nothing), nested
// Sequentials and DescribedLayers. Throws std::invalid_argument naming any other module.
GraphValue describe_sequence(GraphWriter& graph, const torch::nn::Module& sequence,
                             const GraphValue& x);

}  // namespace fersweep::models
