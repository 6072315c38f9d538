// ONNX export of every architecture: the exported graph computes LibTorch's eval-mode logits, in
// OpenCV's DNN module and in onnxruntime, and passes the ONNX checker in C++ and in Python.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "deploy/onnx_export.h"
#include "deploy/onnx_runtime.h"
#include "models/model.h"
#include "models/vgg.h"
#include "tests/onnx_runtimes.h"
#include "tests/test_paths.h"
#include "worker/batches.h"

namespace fersweep::deploy {
namespace {

namespace fs = std::filesystem;
namespace nn = torch::nn;

constexpr int64_t kImages = 3;
constexpr double kTolerance = 1e-4;  // absolute, on logits

// Running statistics and affine parameters away from their initial 0/1, so that a wrong fold
// (a missing eps, mean and shift swapped) shows in the logits.
void randomise_batch_norms(nn::Module& model) {
  torch::NoGradGuard no_grad;
  const auto randomise = [](torch::Tensor& mean, torch::Tensor& var, torch::Tensor& weight,
                            torch::Tensor& bias) {
    mean.normal_(0.0, 0.2);
    var.uniform_(0.02, 2.0);
    if (weight.defined()) weight.uniform_(0.6, 1.4);
    if (bias.defined()) bias.normal_(0.0, 0.2);
  };
  for (auto& module : model.modules(false)) {
    if (auto* bn = module->as<nn::BatchNorm2d>()) {
      randomise(bn->running_mean, bn->running_var, bn->weight, bn->bias);
    } else if (auto* bn1 = module->as<nn::BatchNorm1d>()) {
      randomise(bn1->running_mean, bn1->running_var, bn1->weight, bn1->bias);
    }
  }
}

// Scales the classifier's last layer so that the largest logit is about 4: torchvision's N(0, 0.01)
// init leaves VGG's logits near 0.003, where an absolute tolerance of 1e-4 could not tell a wrong
// graph from a right one.
torch::Tensor logits_of_scaled_model(models::ClassifierImpl& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = worker::normalise(images);
  nn::LinearImpl* last = nullptr;
  for (auto& module : model.modules(false)) {
    if (auto* linear = module->as<nn::Linear>()) last = linear;
  }
  const double largest = model.forward(input).abs().max().item<double>();
  last->weight.mul_(4.0 / largest);
  last->bias.mul_(4.0 / largest);
  return model.forward(input).contiguous();
}

struct Case {
  std::string name;
  models::ModelOptions options;
  std::optional<models::VggLayout> layout;  // a VGG built from a layout of its own
};

models::ModelOptions options_for(const std::string& arch, int size, const std::string& stem) {
  models::ModelOptions o;
  o.arch = arch;
  o.image_size = size;
  o.stem = models::stem_from_string(stem);
  return o;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  models::ModelOptions vgg = options_for("vgg_custom", 32, "imagenet");
  vgg.filters = {8, 16, 16};
  vgg.dense = {24};
  vgg.dense_batch_norm = true;  // BatchNorm1d folded into the Gemm
  out.push_back({"vgg_custom_bn", vgg, std::nullopt});
  vgg.batch_norm = false;  // biased convolutions, no fold
  vgg.dense_batch_norm = false;
  vgg.dense = {};
  vgg.convs_per_block = 1;
  out.push_back({"vgg_custom_plain", vgg, std::nullopt});
  out.push_back({"vgg16_small", options_for("vgg16", 32, "small"), std::nullopt});
  // vgg16's ImageNet stem pools its features to 7x7 (adaptive pooling): that path at small
  // widths, copying one pixel 49 times as at 32 and 48 px (1 -> 7), with windows that overlap
  // (10 -> 7) and with equal ones (10 -> 5).
  for (const auto& [size, blocks, pooled] : {std::tuple{32, 5, 7}, {40, 2, 7}, {40, 2, 5}}) {
    models::VggLayout layout = models::vgg16_layout(models::Stem::kImageNet);
    layout.filters.assign(blocks, 8);
    layout.convs.assign(blocks, 1);
    layout.dense = {16};
    layout.pooled_size = pooled;
    const int from = size >> blocks;
    out.push_back({fmt::format("vgg_pooled_{}_to_{}", from, pooled),
                   options_for("vgg16", size, "imagenet"), layout});
  }
  out.push_back({"resnet18_imagenet", options_for("resnet18", 32, "imagenet"), std::nullopt});
  out.push_back({"resnet34_small", options_for("resnet34", 32, "small"), std::nullopt});
  out.push_back({"resnet50_imagenet", options_for("resnet50", 32, "imagenet"), std::nullopt});
  models::ModelOptions mobile = options_for("mobilenet_v2", 32, "small");
  mobile.width_multiplier = 0.35;
  out.push_back({"mobilenet_v2_035", mobile, std::nullopt});
  mobile.width_multiplier = 1.0;
  mobile.stem = models::Stem::kImageNet;
  out.push_back({"mobilenet_v2_100", mobile, std::nullopt});
  out.push_back({"efficientnet_b0", options_for("efficientnet_b0", 32, "small"), std::nullopt});
  return out;
}

void PrintTo(const Case& c, std::ostream* out) {
  *out << c.name;
}

class OnnxExport : public testing::TestWithParam<Case> {};

TEST_P(OnnxExport, LogitsMatchLibTorchInOpenCvAndOnnxruntime) {
  const Case& c = GetParam();
  torch::manual_seed(7);
  const models::Classifier model =
      c.layout ? models::Vgg(*c.layout, 1, c.options.num_classes, c.options.image_size).ptr()
               : models::make_model(c.options);
  randomise_batch_norms(*model);
  model->eval();

  const int size = c.options.image_size;
  const torch::Tensor images =
      torch::randint(0, 256, {kImages, 1, size, size}, torch::kInt64).to(torch::kUInt8);
  const torch::Tensor expected = logits_of_scaled_model(*model, images);
  const torch::Tensor as_float = images.to(torch::kFloat32).contiguous();
  const std::vector<float> pixels(as_float.data_ptr<float>(),
                                  as_float.data_ptr<float>() + as_float.numel());

  const std::string path = testing_paths::test_scratch_path("onnx") + ".onnx";
  write_onnx_model(*model, c.options, {{"case", c.name}}, path);
  EXPECT_EQ(read_onnx_metadata(path).at("case"), c.name);
  EXPECT_EQ(onnx_runtimes::python_onnx_check(path), "");

  const auto compare = [&](const std::vector<float>& logits, const std::vector<float>& probs,
                           const std::string& runtime) {
    ASSERT_EQ(static_cast<int64_t>(logits.size()), expected.numel()) << runtime;
    const torch::Tensor got =
        torch::from_blob(const_cast<float*>(logits.data()), expected.sizes(), torch::kFloat32);
    const double worst = (got - expected).abs().max().item<double>();
    std::printf("%s %s: largest logit difference %.2g (logits up to %.3g)\n", c.name.c_str(),
                runtime.c_str(), worst, expected.abs().max().item<double>());
    EXPECT_LE(worst, kTolerance) << runtime << ": largest logit difference " << worst
                                 << " (logits up to " << expected.abs().max().item<double>() << ")";
    const torch::Tensor softmax = torch::softmax(expected, 1);
    const torch::Tensor p =
        torch::from_blob(const_cast<float*>(probs.data()), expected.sizes(), torch::kFloat32);
    EXPECT_LE((p - softmax).abs().max().item<double>(), 1e-5) << runtime;
  };

  const OnnxOutputs opencv = run_onnx_opencv(path, pixels, kImages, 1, size);
  EXPECT_EQ(opencv.classes, c.options.num_classes);
  compare(opencv.logits, opencv.probabilities, "OpenCV DNN");

  const onnx_runtimes::RunResult ort = onnx_runtimes::run_in_onnxruntime(
      path, {kImages, 1, size, size}, pixels, testing_paths::test_scratch_path("ort"));
  ASSERT_EQ(ort.error, "");
  EXPECT_EQ(ort.dims, (std::vector<int64_t>{kImages, c.options.num_classes}));
  EXPECT_EQ(ort.inputs, std::vector<std::string>{"pixels"});
  EXPECT_EQ(ort.outputs, (std::vector<std::string>{"logits", "probabilities"}));
  compare(ort.logits, ort.probabilities, "onnxruntime");
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(EveryArchitecture, OnnxExport, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

// The batch dimension is the graph's "N": one model file serves any batch size.
TEST(OnnxExportGraph, OneFileServesAnyBatchSize) {
  models::ModelOptions o = options_for("vgg_custom", 32, "imagenet");
  o.filters = {4, 8};
  o.dense = {8};
  torch::manual_seed(3);
  const models::Classifier model = models::make_model(o);
  model->eval();
  const std::string path = testing_paths::test_scratch_path("onnx_batch") + ".onnx";
  write_onnx_model(*model, o, {}, path);
  for (int64_t n : {1, 5}) {
    const std::vector<float> pixels(n * 32 * 32, 100.0f);
    const OnnxOutputs out = run_onnx_opencv(path, pixels, n, 1, 32);
    EXPECT_EQ(out.logits.size(), static_cast<size_t>(n * 7));
  }
  fs::remove(path);
}

TEST(OnnxExportGraph, AnUnwritablePathIsAnInputErrorNamingIt) {
  models::ModelOptions o = options_for("vgg_custom", 32, "imagenet");
  o.filters = {4};
  o.dense = {};
  const models::Classifier model = models::make_model(o);
  model->eval();
  const std::string path = "/nonexistent_dir_for_fersweep/model.onnx";
  try {
    write_onnx_model(*model, o, {}, path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_onnx_metadata(path), InputError);
}

}  // namespace
}  // namespace fersweep::deploy
