#include "models/model.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "models/efficientnet.h"
#include "models/mobilenet_v2.h"
#include "models/resnet.h"
#include "models/vgg.h"

namespace fersweep::models {

Stem stem_from_string(const std::string& text) {
  if (text == "imagenet") return Stem::kImageNet;
  if (text == "small") return Stem::kSmall;
  throw std::invalid_argument("stem: unknown \"" + text + "\" (choose from imagenet, small)");
}

std::string to_string(Stem stem) {
  return stem == Stem::kImageNet ? "imagenet" : "small";
}

ModelOptions model_options(const TrialConfig& c, int num_classes, int image_size, int in_channels) {
  ModelOptions o;
  o.arch = c.arch;
  o.in_channels = in_channels;
  o.num_classes = num_classes;
  o.image_size = image_size;
  o.stem = stem_from_string(c.stem);
  o.filters = c.filters;
  o.convs_per_block = c.convs_per_block;
  o.batch_norm = c.batch_norm;
  o.dense = c.dense;
  o.dense_batch_norm = c.dense_batch_norm;
  o.dropout = c.dropout;
  o.width_multiplier = c.width_multiplier;
  o.stochastic_depth = c.stochastic_depth;
  return o;
}

Classifier make_model(const ModelOptions& o) {
  if (o.in_channels < 1 || o.num_classes < 2) {
    throw std::invalid_argument("a model needs at least 1 input channel and 2 classes");
  }
  if (o.arch == "vgg_custom") {
    return Vgg(vgg_custom_layout(o), o.in_channels, o.num_classes, o.image_size).ptr();
  }
  if (o.arch == "vgg16") {
    VggLayout layout = vgg16_layout(o.stem);
    if (o.dropout) layout.dropout = *o.dropout;
    return Vgg(layout, o.in_channels, o.num_classes, o.image_size).ptr();
  }
  if (o.arch.starts_with("resnet")) {
    // torchvision's ResNet has no dropout; a swept one sits before the classifier.
    return ResNet(resnet_layout(o.arch), o.stem, o.in_channels, o.num_classes,
                  o.dropout.value_or(0.0), o.image_size)
        .ptr();
  }
  if (o.arch == "mobilenet_v2") {
    return MobileNetV2(o.width_multiplier, o.stem, o.in_channels, o.num_classes,
                       o.dropout.value_or(0.2))
        .ptr();
  }
  if (o.arch == "efficientnet_b0") {
    return EfficientNet(o.stochastic_depth, o.stem, o.in_channels, o.num_classes,
                        o.dropout.value_or(0.2))
        .ptr();
  }
  throw std::invalid_argument("arch: unknown \"" + o.arch + "\"");
}

void use_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  // Not contiguous(ChannelsLast): that keeps a tensor whose strides already pass as channels-last
  // (every 1x1 and depthwise kernel, any 1-channel tensor), and LibTorch then reads those strides
  // as NCHW and runs the whole network in NCHW. Fresh channels-last strides are unambiguous.
  const auto convert = [](torch::Tensor& tensor) {
    if (tensor.dim() != 4) return;
    tensor.set_data(torch::empty_like(tensor, torch::MemoryFormat::ChannelsLast).copy_(tensor));
  };
  std::vector<std::string> nchw;
  if (const auto* classifier = dynamic_cast<const ClassifierImpl*>(&module)) {
    nchw = classifier->nchw_parameters();
  }
  for (auto& item : module.named_parameters()) {
    const bool keep_nchw =
        item.value().is_cpu() && std::any_of(nchw.begin(), nchw.end(), [&](const std::string& p) {
          return item.key().starts_with(p);
        });
    if (!keep_nchw) convert(item.value());
  }
  for (torch::Tensor& buffer : module.buffers()) convert(buffer);
}

int64_t trainable_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) total += p.numel();
  }
  return total;
}

int64_t buffer_elements(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& b : module.buffers()) total += b.numel();
  return total;
}

}  // namespace fersweep::models
