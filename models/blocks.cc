#include "models/blocks.h"

#include <algorithm>

namespace fersweep::models {

namespace nn = torch::nn;

torch::Tensor BFloat16SafeReLU6Impl::forward(torch::Tensor x) {
  // Only the backward kernel is missing: evaluation keeps torch's bfloat16 forward pass.
  if (x.scalar_type() == torch::kBFloat16 && x.device().is_cpu() && x.requires_grad()) {
    return torch::nn::functional::relu6(x.to(torch::kFloat)).to(torch::kBFloat16);
  }
  return ReLU6Impl::forward(std::move(x));
}

SequentialBlock conv_norm_act(int in, int out, int kernel, int stride, int groups,
                              Activation activation, double bn_eps) {
  SequentialBlock block(nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                                       .stride(stride)
                                       .padding((kernel - 1) / 2)
                                       .groups(groups)
                                       .bias(false)),
                        nn::BatchNorm2d(nn::BatchNorm2dOptions(out).eps(bn_eps)));
  switch (activation) {
    case Activation::kNone:
      break;
    case Activation::kReLU:
      block->push_back(nn::ReLU(nn::ReLUOptions(true)));
      break;
    case Activation::kReLU6:
      block->push_back(BFloat16SafeReLU6(nn::ReLU6Options(true)));
      break;
    case Activation::kSiLU:
      block->push_back(nn::SiLU());
      break;
  }
  return block;
}

int make_divisible(double v, int divisor) {
  int rounded = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  const double survival = 1.0 - p;
  torch::Tensor keep = torch::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(survival);
  if (survival > 0.0) keep.div_(survival);
  return x * keep;
}

void init_convolutions_and_norms(nn::Module& root) {
  for (auto& module : root.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      // torchvision passes nonlinearity="relu" for ResNet; MobileNetV2 and EfficientNet keep the
      // default leaky_relu with slope 0, which has the same gain.
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

}  // namespace fersweep::models
