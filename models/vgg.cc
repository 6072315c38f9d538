#include "models/vgg.h"

#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

namespace fersweep::models {

namespace nn = torch::nn;

VggLayout vgg16_layout(Stem stem) {
  VggLayout layout;
  layout.filters = {64, 128, 256, 512, 512};
  layout.convs = {2, 2, 3, 3, 3};
  layout.batch_norm = false;
  layout.dense = {4096, 4096};
  layout.dropout = 0.5;
  // At 48 px the features are 1x1; torchvision still pools them to 7x7 (49 copies), which is
  // what makes its head 25088 wide. The small stem feeds the 512 features straight in.
  layout.pooled_size = stem == Stem::kImageNet ? 7 : 1;
  return layout;
}

VggLayout vgg_custom_layout(const ModelOptions& o) {
  VggLayout layout;
  layout.filters = o.filters;
  layout.convs.assign(o.filters.size(), o.convs_per_block);
  layout.batch_norm = o.batch_norm;
  layout.dense = o.dense;
  layout.dense_batch_norm = o.dense_batch_norm;
  layout.dropout = o.dropout.value_or(0.5);
  // torchvision's N(0, 0.01) suits 4096-wide layers, but on the narrow heads swept here it leaves
  // the logits near zero for epochs (a plateau at loss ln K); LibTorch's Kaiming-uniform does not.
  layout.reference_linear_init = false;
  return layout;
}

VggImpl::VggImpl(const VggLayout& layout, int in_channels, int num_classes, int image_size)
    : pooled_size_(layout.pooled_size) {
  if (layout.filters.empty()) throw std::invalid_argument("filters: at least one block is needed");
  nn::Sequential features;
  int channels = in_channels, spatial = image_size;
  for (size_t block = 0; block < layout.filters.size(); ++block) {
    const int width = layout.filters[block];
    for (int i = 0; i < layout.convs[block]; ++i) {
      features->push_back(
          nn::Conv2d(nn::Conv2dOptions(channels, width, 3).padding(1).bias(!layout.batch_norm)));
      if (layout.batch_norm) features->push_back(nn::BatchNorm2d(width));
      features->push_back(nn::ReLU(nn::ReLUOptions(true)));
      channels = width;
    }
    features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    spatial /= 2;
  }
  if (spatial < 1) {
    throw std::invalid_argument(
        fmt::format("filters: {} pooling blocks shrink a {} px image below 1 px",
                    layout.filters.size(), image_size));
  }
  feature_channels_ = channels;
  feature_size_ = spatial;
  if (pooled_size_ > 0) spatial = pooled_size_;
  nn::Sequential classifier;
  int64_t inputs = static_cast<int64_t>(channels) * spatial * spatial;
  for (int width : layout.dense) {
    classifier->push_back(nn::Linear(inputs, width));
    if (layout.dense_batch_norm) classifier->push_back(nn::BatchNorm1d(width));
    classifier->push_back(nn::ReLU(nn::ReLUOptions(true)));
    if (layout.dropout > 0) classifier->push_back(nn::Dropout(layout.dropout));
    inputs = width;
  }
  classifier->push_back(nn::Linear(inputs, num_classes));
  features_ = register_module("features", features);
  classifier_ = register_module("classifier", classifier);

  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* linear = module->as<nn::Linear>(); linear && layout.reference_linear_init) {
      nn::init::normal_(linear->weight, 0.0, 0.01);
      nn::init::zeros_(linear->bias);
    }
  }
}

torch::Tensor VggImpl::forward(torch::Tensor x) {
  x = features_->forward(x);
  if (pooled_size_ > 0) x = torch::adaptive_avg_pool2d(x, {pooled_size_, pooled_size_});
  return classifier_->forward(x.flatten(1));
}

GraphValue VggImpl::describe(GraphWriter& graph, const GraphValue& x) const {
  GraphValue value = describe_sequence(graph, *features_, x);
  if (pooled_size_ > 0) {
    value = graph.adaptive_average_pool(value, feature_channels_, feature_size_, pooled_size_);
  }
  return describe_sequence(graph, *classifier_, graph.flatten(value));
}

}  // namespace fersweep::models
