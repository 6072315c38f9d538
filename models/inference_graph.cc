#include "models/inference_graph.h"

#include <stdexcept>

namespace fersweep::models {
namespace {

namespace nn = torch::nn;

int first(const torch::ExpandingArray<2>& values) {
  return static_cast<int>((*values)[0]);
}

}  // namespace

GraphValue describe_sequence(GraphWriter& graph, const nn::Module& sequence, const GraphValue& x) {
  const auto children = sequence.children();
  GraphValue value = x;
  for (size_t i = 0; i < children.size(); ++i) {
    const nn::Module& child = *children[i];
    const nn::Module* next = i + 1 < children.size() ? children[i + 1].get() : nullptr;
    if (const auto* conv = child.as<nn::Conv2d>()) {
      const auto* norm = next ? next->as<nn::BatchNorm2d>() : nullptr;
      value = graph.conv(value, *conv, norm);
      if (norm) ++i;
    } else if (const auto* linear = child.as<nn::Linear>()) {
      const auto* norm = next ? next->as<nn::BatchNorm1d>() : nullptr;
      value = graph.linear(value, *linear, norm);
      if (norm) ++i;
    } else if (child.as<nn::ReLU>()) {
      value = graph.pointwise(value, Pointwise::kReLU);
    } else if (child.as<nn::ReLU6>()) {
      value = graph.pointwise(value, Pointwise::kReLU6);
    } else if (child.as<nn::SiLU>()) {
      value = graph.pointwise(value, Pointwise::kSiLU);
    } else if (const auto* pool = child.as<nn::MaxPool2d>()) {
      const auto& o = pool->options;
      if (o.ceil_mode() || first(o.dilation()) != 1) {
        throw std::invalid_argument("export: MaxPool2d with ceil_mode or dilation");
      }
      value = graph.max_pool(value, first(o.kernel_size()), first(o.stride()), first(o.padding()));
    } else if (child.as<nn::Dropout>()) {
      // the identity at inference
    } else if (const auto* layer = dynamic_cast<const DescribedLayer*>(&child)) {
      value = layer->describe(graph, value);
    } else if (dynamic_cast<const nn::SequentialImpl*>(&child)) {
      value = describe_sequence(graph, child, value);
    } else {
      throw std::invalid_argument("export: no inference description for module " + child.name());
    }
  }
  return value;
}

}  // namespace fersweep::models
