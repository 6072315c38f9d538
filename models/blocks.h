#pragma once
// Building blocks shared by MobileNetV2 and EfficientNet, in torchvision's layout so that
// parameter counts and initialisation match the references.
#include <torch/torch.h>

namespace fersweep::models {

enum class Activation { kNone, kReLU, kReLU6, kSiLU };

// A Sequential that can sit inside another: nn::Sequential's forward is a template, which
// nn::AnyModule cannot hold.
class SequentialBlockImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(SequentialBlock);

// ReLU6 that also trains under bfloat16 autocast on the CPU. LibTorch 1.13 has no bfloat16 CPU
// kernel for hardtanh's backward pass, so a bfloat16 CPU input that needs a gradient is clamped
// in float32 and cast back: the same values and gradients, since 0 and 6 are exact in bfloat16.
// Everywhere else it is torch's ReLU6 (and is one to whatever inspects the network: as<nn::ReLU6>()
// finds it).
class BFloat16SafeReLU6Impl : public torch::nn::ReLU6Impl {
 public:
  using ReLU6Impl::ReLU6Impl;
  torch::Tensor forward(torch::Tensor x);
};
TORCH_MODULE(BFloat16SafeReLU6);

// Conv (no bias) -> BatchNorm -> activation, padding (kernel - 1) / 2: torchvision's
// Conv2dNormActivation.
SequentialBlock conv_norm_act(int in, int out, int kernel, int stride, int groups,
                              Activation activation, double bn_eps = 1e-5);

// torchvision's _make_divisible: round channels to a multiple of `divisor`, never below 90 % of v.
int make_divisible(double v, int divisor = 8);

// Zeroes whole samples of a residual branch with probability p while training, scaling the rest
// by 1 / (1 - p) ("row" mode of torchvision's StochasticDepth).
torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training);

// Kaiming-normal (fan-out) convolutions with zero bias, unit/zero batch-norm: the initialisation
// torchvision's ResNet, MobileNetV2 and EfficientNet share. Linear layers are left alone.
void init_convolutions_and_norms(torch::nn::Module& root);

}  // namespace fersweep::models
