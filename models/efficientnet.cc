#include "models/efficientnet.h"

#include <cmath>
#include <stdexcept>

#include "models/blocks.h"

namespace fersweep::models {
namespace {

namespace nn = torch::nn;

class SqueezeExcitationImpl : public nn::Module, public DescribedLayer {
 public:
  SqueezeExcitationImpl(int channels, int squeezed)
      : fc1_(register_module("fc1", nn::Conv2d(nn::Conv2dOptions(channels, squeezed, 1)))),
        fc2_(register_module("fc2", nn::Conv2d(nn::Conv2dOptions(squeezed, channels, 1)))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor scale = torch::adaptive_avg_pool2d(x, {1, 1});
    scale = torch::sigmoid(fc2_(torch::silu(fc1_(scale))));
    return x * scale;
  }
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override {
    GraphValue scale = graph.conv(graph.global_average_pool(x), *fc1_, nullptr);
    scale = graph.conv(graph.pointwise(scale, Pointwise::kSiLU), *fc2_, nullptr);
    return graph.multiply(x, graph.pointwise(scale, Pointwise::kSigmoid));
  }

 private:
  nn::Conv2d fc1_, fc2_;
};
TORCH_MODULE(SqueezeExcitation);

class MBConvImpl : public nn::Module, public DescribedLayer {
 public:
  MBConvImpl(int in, int out, int kernel, int stride, int expand_ratio, double drop_rate)
      : residual_(stride == 1 && in == out), drop_rate_(drop_rate) {
    const int expanded = make_divisible(in * static_cast<double>(expand_ratio));
    SequentialBlock block;
    if (expanded != in) block->push_back(conv_norm_act(in, expanded, 1, 1, 1, Activation::kSiLU));
    block->push_back(
        conv_norm_act(expanded, expanded, kernel, stride, expanded, Activation::kSiLU));
    // torchvision squeezes relative to the block's input width, not the expanded one.
    block->push_back(SqueezeExcitation(expanded, std::max(1, in / 4)));
    block->push_back(conv_norm_act(expanded, out, 1, 1, 1, Activation::kNone));
    block_ = register_module("block", block);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = block_->forward(x);
    if (!residual_) return y;
    return stochastic_depth(y, drop_rate_, is_training()) + x;
  }
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override {
    const GraphValue y = describe_sequence(graph, *block_, x);
    return residual_ ? graph.add(y, x) : y;
  }

 private:
  bool residual_;
  double drop_rate_;
  SequentialBlock block_{nullptr};
};
TORCH_MODULE(MBConv);

struct Stage {
  int expand_ratio, kernel, stride, in, out, layers;
};
constexpr Stage kStages[] = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},
                             {6, 3, 2, 40, 80, 3},  {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4},
                             {6, 3, 1, 192, 320, 1}};

}  // namespace

EfficientNetImpl::EfficientNetImpl(double stochastic_depth_rate, Stem stem, int in_channels,
                                   int num_classes, double dropout) {
  if (stochastic_depth_rate < 0 || stochastic_depth_rate >= 1) {
    throw std::invalid_argument("stochastic_depth: must be in [0, 1)");
  }
  int total_blocks = 0;
  for (const Stage& s : kStages) total_blocks += s.layers;
  nn::Sequential features;
  features->push_back(conv_norm_act(in_channels, kStages[0].in, 3, stem == Stem::kImageNet ? 2 : 1,
                                    1, Activation::kSiLU));
  int block_index = 0;
  for (const Stage& s : kStages) {
    SequentialBlock stage;
    for (int i = 0; i < s.layers; ++i, ++block_index) {
      const double drop = stochastic_depth_rate * block_index / total_blocks;
      stage->push_back(MBConv(i == 0 ? s.in : s.out, s.out, s.kernel, i == 0 ? s.stride : 1,
                              s.expand_ratio, drop));
    }
    features->push_back(stage);
  }
  const int last_channels = 4 * kStages[std::size(kStages) - 1].out;
  features->push_back(conv_norm_act(kStages[std::size(kStages) - 1].out, last_channels, 1, 1, 1,
                                    Activation::kSiLU));
  features_ = register_module("features", features);
  classifier_ = register_module(
      "classifier", nn::Sequential(nn::Dropout(dropout), nn::Linear(last_channels, num_classes)));

  init_convolutions_and_norms(*this);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<nn::Linear>()) {
      const double range = 1.0 / std::sqrt(static_cast<double>(linear->options.out_features()));
      nn::init::uniform_(linear->weight, -range, range);
      nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor EfficientNetImpl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(features_->forward(x), {1, 1}).flatten(1);
  return classifier_->forward(x);
}

GraphValue EfficientNetImpl::describe(GraphWriter& graph, const GraphValue& x) const {
  const GraphValue pooled = graph.global_average_pool(describe_sequence(graph, *features_, x));
  return describe_sequence(graph, *classifier_, graph.flatten(pooled));
}

}  // namespace fersweep::models
