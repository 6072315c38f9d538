#include "models/mobilenet_v2.h"

#include <cmath>
#include <stdexcept>

#include "models/blocks.h"

namespace fersweep::models {
namespace {

namespace nn = torch::nn;

class InvertedResidualImpl : public nn::Module, public DescribedLayer {
 public:
  InvertedResidualImpl(int in, int out, int stride, int expand_ratio)
      : residual_(stride == 1 && in == out) {
    const int hidden = static_cast<int>(std::lround(in * static_cast<double>(expand_ratio)));
    SequentialBlock conv;
    if (expand_ratio != 1) conv->push_back(conv_norm_act(in, hidden, 1, 1, 1, Activation::kReLU6));
    conv->push_back(conv_norm_act(hidden, hidden, 3, stride, hidden, Activation::kReLU6));
    // Flat, not a nested block: torchvision names these conv.N and conv.N+1.
    conv->push_back(nn::Conv2d(nn::Conv2dOptions(hidden, out, 1).bias(false)));
    conv->push_back(nn::BatchNorm2d(out));
    conv_ = register_module("conv", conv);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return residual_ ? x + conv_->forward(x) : conv_->forward(x);
  }
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override {
    const GraphValue y = describe_sequence(graph, *conv_, x);
    return residual_ ? graph.add(x, y) : y;
  }

 private:
  bool residual_;
  SequentialBlock conv_{nullptr};
};
TORCH_MODULE(InvertedResidual);

struct Stage {
  int expand_ratio, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

MobileNetV2Impl::MobileNetV2Impl(double width_multiplier, Stem stem, int in_channels,
                                 int num_classes, double dropout) {
  if (!(width_multiplier > 0)) throw std::invalid_argument("width_multiplier: must be positive");
  int channels = make_divisible(32 * width_multiplier);
  const int last_channels = make_divisible(1280 * std::max(1.0, width_multiplier));
  nn::Sequential features;
  features->push_back(conv_norm_act(in_channels, channels, 3, stem == Stem::kImageNet ? 2 : 1, 1,
                                    Activation::kReLU6));
  for (const Stage& s : kStages) {
    const int out = make_divisible(s.channels * width_multiplier);
    for (int i = 0; i < s.repeats; ++i) {
      features->push_back(InvertedResidual(channels, out, i == 0 ? s.stride : 1, s.expand_ratio));
      channels = out;
    }
  }
  features->push_back(conv_norm_act(channels, last_channels, 1, 1, 1, Activation::kReLU6));
  features_ = register_module("features", features);
  classifier_ = register_module(
      "classifier", nn::Sequential(nn::Dropout(dropout), nn::Linear(last_channels, num_classes)));

  init_convolutions_and_norms(*this);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<nn::Linear>()) {
      nn::init::normal_(linear->weight, 0.0, 0.01);
      nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor MobileNetV2Impl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(features_->forward(x), {1, 1}).flatten(1);
  return classifier_->forward(x);
}

GraphValue MobileNetV2Impl::describe(GraphWriter& graph, const GraphValue& x) const {
  const GraphValue pooled = graph.global_average_pool(describe_sequence(graph, *features_, x));
  return describe_sequence(graph, *classifier_, graph.flatten(pooled));
}

}  // namespace fersweep::models
