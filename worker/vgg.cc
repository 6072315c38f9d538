#include "worker/vgg.h"

#include <stdexcept>

#include <fmt/format.h>

namespace fersweep::worker {

VggCustomImpl::VggCustomImpl(const VggOptions& o) {
  namespace nn = torch::nn;
  if (o.filters.empty()) throw std::invalid_argument("filters: at least one block is needed");
  nn::Sequential features;
  int channels = o.in_channels, spatial = o.image_size;
  for (int width : o.filters) {
    for (int i = 0; i < o.convs_per_block; ++i) {
      features->push_back(
          nn::Conv2d(nn::Conv2dOptions(channels, width, 3).padding(1).bias(!o.batch_norm)));
      if (o.batch_norm) features->push_back(nn::BatchNorm2d(width));
      features->push_back(nn::ReLU(nn::ReLUOptions(true)));
      channels = width;
    }
    features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    spatial /= 2;
  }
  if (spatial < 1) {
    throw std::invalid_argument(
        fmt::format("filters: {} pooling blocks shrink a {} px image below 1 px", o.filters.size(),
                    o.image_size));
  }
  nn::Sequential classifier;
  int64_t inputs = static_cast<int64_t>(channels) * spatial * spatial;
  for (int width : o.dense) {
    classifier->push_back(nn::Linear(inputs, width));
    classifier->push_back(nn::ReLU(nn::ReLUOptions(true)));
    if (o.dropout > 0) classifier->push_back(nn::Dropout(o.dropout));
    inputs = width;
  }
  classifier->push_back(nn::Linear(inputs, o.num_classes));
  features_ = register_module("features", features);
  classifier_ = register_module("classifier", classifier);

  // Convolutions as torchvision's VGG (Kaiming normal, fan-out). Linear layers keep LibTorch's
  // Kaiming-uniform default: torchvision's N(0, 0.01) suits 4096-wide layers, but on the narrow
  // heads swept here it leaves the logits near zero for epochs (a plateau at loss ln K).
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    }
  }
}

torch::Tensor VggCustomImpl::forward(torch::Tensor x) {
  return classifier_->forward(features_->forward(x).flatten(1));
}

int64_t count_trainable_parameters(torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) total += p.numel();
  }
  return total;
}

}  // namespace fersweep::worker
