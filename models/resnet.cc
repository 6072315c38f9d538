#include "models/resnet.h"

#include <stdexcept>

#include "models/blocks.h"

namespace fersweep::models {
namespace {

namespace nn = torch::nn;

// Maps of this side or smaller run NCHW on a CPU (ResNetImpl::nchw_parameters).
constexpr int kLargestNchwMap = 2;

nn::Conv2d conv(int in, int out, int kernel, int stride) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding((kernel - 1) / 2).bias(false));
}

// 1x1 conv + batch-norm on the shortcut when the block changes shape.
nn::Sequential downsample(int in, int out, int stride) {
  if (stride == 1 && in == out) return nullptr;
  return nn::Sequential(conv(in, out, 1, stride), nn::BatchNorm2d(out));
}

class BasicBlockImpl : public nn::Module, public DescribedLayer {
 public:
  static constexpr int kExpansion = 1;
  BasicBlockImpl(int in, int planes, int stride)
      : conv1(register_module("conv1", conv(in, planes, 3, stride))),
        bn1(register_module("bn1", nn::BatchNorm2d(planes))),
        conv2(register_module("conv2", conv(planes, planes, 3, 1))),
        bn2(register_module("bn2", nn::BatchNorm2d(planes))),
        shortcut(downsample(in, planes, stride)) {
    if (shortcut) register_module("downsample", shortcut);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = bn1(conv1(x)).relu_();
    out = bn2(conv2(out));
    out += shortcut ? shortcut->forward(x) : x;
    return out.relu_();
  }
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override {
    GraphValue out = graph.pointwise(graph.conv(x, *conv1, bn1.get()), Pointwise::kReLU);
    out = graph.conv(out, *conv2, bn2.get());
    const GraphValue skip = shortcut ? describe_sequence(graph, *shortcut, x) : x;
    return graph.pointwise(graph.add(out, skip), Pointwise::kReLU);
  }
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Sequential shortcut;
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public nn::Module, public DescribedLayer {
 public:
  static constexpr int kExpansion = 4;
  BottleneckImpl(int in, int planes, int stride)
      : conv1(register_module("conv1", conv(in, planes, 1, 1))),
        bn1(register_module("bn1", nn::BatchNorm2d(planes))),
        conv2(register_module("conv2", conv(planes, planes, 3, stride))),
        bn2(register_module("bn2", nn::BatchNorm2d(planes))),
        conv3(register_module("conv3", conv(planes, planes * kExpansion, 1, 1))),
        bn3(register_module("bn3", nn::BatchNorm2d(planes * kExpansion))),
        shortcut(downsample(in, planes * kExpansion, stride)) {
    if (shortcut) register_module("downsample", shortcut);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = bn1(conv1(x)).relu_();
    out = bn2(conv2(out)).relu_();
    out = bn3(conv3(out));
    out += shortcut ? shortcut->forward(x) : x;
    return out.relu_();
  }
  GraphValue describe(GraphWriter& graph, const GraphValue& x) const override {
    GraphValue out = graph.pointwise(graph.conv(x, *conv1, bn1.get()), Pointwise::kReLU);
    out = graph.pointwise(graph.conv(out, *conv2, bn2.get()), Pointwise::kReLU);
    out = graph.conv(out, *conv3, bn3.get());
    const GraphValue skip = shortcut ? describe_sequence(graph, *shortcut, x) : x;
    return graph.pointwise(graph.add(out, skip), Pointwise::kReLU);
  }
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  nn::Conv2d conv3;
  nn::BatchNorm2d bn3;
  nn::Sequential shortcut;
};
TORCH_MODULE(Bottleneck);

template <typename Block>
nn::Sequential make_stage(int& in, int planes, int blocks, int stride) {
  nn::Sequential stage;
  for (int i = 0; i < blocks; ++i) {
    stage->push_back(Block(in, planes, i == 0 ? stride : 1));
    in = planes * Block::Impl::kExpansion;
  }
  return stage;
}

}  // namespace

ResNetLayout resnet_layout(const std::string& arch) {
  if (arch == "resnet18") return {false, {2, 2, 2, 2}};
  if (arch == "resnet34") return {false, {3, 4, 6, 3}};
  if (arch == "resnet50") return {true, {3, 4, 6, 3}};
  throw std::invalid_argument("arch: not a ResNet: " + arch);
}

ResNetImpl::ResNetImpl(const ResNetLayout& layout, Stem stem, int in_channels, int num_classes,
                       double dropout, int image_size)
    : stem_pool_(stem == Stem::kImageNet) {
  // The side of each stage's maps: the ImageNet stem halves it twice (stride-2 convolution, then
  // max-pool), every stage after the first once more (each rounding up, as padding does).
  int side = stem == Stem::kImageNet ? (image_size + 3) / 4 : image_size;
  for (int stage = 0; stage < 4; ++stage) {
    if (stage > 0) side = (side + 1) / 2;
    if (side <= kLargestNchwMap) {
      first_nchw_stage_ = stage;
      break;
    }
  }
  conv1_ = register_module(
      "conv1", stem == Stem::kImageNet ? conv(in_channels, 64, 7, 2) : conv(in_channels, 64, 3, 1));
  bn1_ = register_module("bn1", nn::BatchNorm2d(64));
  int in = 64;
  const std::array<int, 4> planes{64, 128, 256, 512};
  nn::Sequential* stages[] = {&layer1_, &layer2_, &layer3_, &layer4_};
  for (int i = 0; i < 4; ++i) {
    const int stride = i == 0 ? 1 : 2;
    *stages[i] = layout.bottleneck
                     ? make_stage<Bottleneck>(in, planes[i], layout.blocks[i], stride)
                     : make_stage<BasicBlock>(in, planes[i], layout.blocks[i], stride);
    register_module("layer" + std::to_string(i + 1), *stages[i]);
  }
  if (dropout > 0) dropout_ = register_module("dropout", nn::Dropout(dropout));
  fc_ = register_module("fc", nn::Linear(in, num_classes));
  init_convolutions_and_norms(*this);
}

std::vector<std::string> ResNetImpl::nchw_parameters() const {
  std::vector<std::string> prefixes;
  for (int stage = first_nchw_stage_; stage < 4; ++stage) {
    prefixes.push_back("layer" + std::to_string(stage + 1) + ".");
  }
  return prefixes;
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = bn1_(conv1_(x)).relu_();
  if (stem_pool_) x = torch::max_pool2d(x, 3, 2, 1);
  torch::nn::Sequential* stages[] = {&layer1_, &layer2_, &layer3_, &layer4_};
  for (int stage = 0; stage < 4; ++stage) {
    if (stage == first_nchw_stage_ && x.is_cpu()) x = x.contiguous();
    x = (*stages[stage])->forward(x);
  }
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  if (dropout_) x = dropout_(x);
  return fc_(x);
}

GraphValue ResNetImpl::describe(GraphWriter& graph, const GraphValue& x) const {
  GraphValue value = graph.pointwise(graph.conv(x, *conv1_, bn1_.get()), Pointwise::kReLU);
  if (stem_pool_) value = graph.max_pool(value, 3, 2, 1);
  for (const auto* layer : {&layer1_, &layer2_, &layer3_, &layer4_}) {
    value = describe_sequence(graph, **layer, value);
  }
  return graph.linear(graph.flatten(graph.global_average_pool(value)), *fc_, nullptr);
}

}  // namespace fersweep::models
