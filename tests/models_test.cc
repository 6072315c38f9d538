// The model zoo against its references: exact torchvision parameter counts, shapes at several
// sizes and class counts, a training step that learns, and the cost measurements.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "models/model.h"
#include "models/profile.h"
#include "models/report.h"

namespace fersweep::models {
namespace {

ModelOptions reference(const std::string& arch, int classes = 6) {
  ModelOptions o;
  o.arch = arch;
  o.in_channels = 1;
  o.num_classes = classes;
  o.stem = Stem::kImageNet;
  return o;
}

int64_t parameters_of(const ModelOptions& o) {
  return trainable_parameters(*make_model(o));
}

// torchvision's counts with its default (ImageNet) stem, 1 input channel and 6 classes, as listed
// in the issue that asked for the zoo; vgg16 is torchvision's 138,357,544 less the 1000-class
// classifier (4,097,000) plus a 6-class one (24,582) less two input channels (2 x 64 x 9).
TEST(ModelZoo, ParameterCountsEqualTorchvision) {
  EXPECT_EQ(parameters_of(reference("resnet18")), 11'173'318);
  EXPECT_EQ(parameters_of(reference("resnet34")), 21'281'478);
  EXPECT_EQ(parameters_of(reference("resnet50")), 23'514'054);
  EXPECT_EQ(parameters_of(reference("mobilenet_v2")), 2'230'982);
  EXPECT_EQ(parameters_of(reference("efficientnet_b0")), 4'014'658);
  EXPECT_EQ(parameters_of(reference("vgg16")), 138'357'544 - 4'097'000 + 24'582 - 2 * 64 * 9);
}

// The seed report's "modified VGG" (1,328,102 parameters) is a Keras model. Keras counts the
// batch-norm moving mean and variance among its parameters and keeps a bias in every conv before
// batch-norm (redundant with its shift; torchvision and fersweep drop it). With those two
// differences added back, this layout reproduces the figure exactly: four blocks of two 3x3 convs
// (32/64/128/256, batch-norm), two dense layers of 64 with batch-norm, six classes (anger and
// disgust merged), 48x48 grayscale input.
TEST(ModelZoo, SeedModifiedVggIsOnePointOfVggCustom) {
  ModelOptions o = reference("vgg_custom");
  o.filters = {32, 64, 128, 256};
  o.convs_per_block = 2;
  o.batch_norm = true;
  o.dense = {64, 64};
  o.dense_batch_norm = true;
  const Classifier model = make_model(o);
  int64_t running_statistics = 0;
  for (const auto& buffer : model->named_buffers()) {
    if (buffer.key().find("running_") != std::string::npos) running_statistics += buffer->numel();
  }
  const int64_t conv_biases = 2 * (32 + 64 + 128 + 256);
  EXPECT_EQ(trainable_parameters(*model) + running_statistics + conv_biases, 1'328'102);
}

// Name for name and shape for shape, every parameter and buffer equals torchvision's (written by
// tests/data/torchvision_reference.py from Debian's torchvision 0.14).
std::map<std::string, std::vector<std::string>> torchvision_listing() {
  const std::string path =
      std::string(FERSWEEP_SOURCE_DIR) + "/tests/data/torchvision_parameters.txt";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::map<std::string, std::vector<std::string>> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string model, rest;
    fields >> model;
    std::getline(fields >> std::ws, rest);
    lines[model].push_back(rest);
  }
  return lines;
}

std::vector<std::string> our_listing(const ModelOptions& o) {
  const Classifier model = make_model(o);
  const auto shape = [](const torch::Tensor& t) {
    if (t.dim() == 0) return std::string("scalar");
    return fmt::format("{}", fmt::join(t.sizes(), "x"));
  };
  std::vector<std::string> lines;
  for (const auto& p : model->named_parameters())
    lines.push_back("param " + p.key() + " " + shape(*p));
  for (const auto& b : model->named_buffers())
    lines.push_back("buffer " + b.key() + " " + shape(*b));
  return lines;
}

TEST(ModelZoo, EveryTensorMatchesTorchvisionByNameAndShape) {
  const auto reference_lines = torchvision_listing();
  ASSERT_EQ(reference_lines.size(), 7u);
  for (const auto& [name, expected] : reference_lines) {
    const bool half_width = name == "mobilenet_v2@0.5";
    ModelOptions o = reference(half_width ? std::string("mobilenet_v2") : name);
    if (half_width) o.width_multiplier = 0.5;
    EXPECT_EQ(our_listing(o), expected) << name;
  }
  ModelOptions half = reference("mobilenet_v2");
  half.width_multiplier = 0.5;
  EXPECT_EQ(parameters_of(half), 695'078);  // torchvision mobilenet_v2(width_mult=0.5), 1 channel
}

struct ShapeCase {
  std::string arch;
  Stem stem;
};

// CTest lists parameterised tests by this, instead of gtest's byte dump of the struct.
void PrintTo(const ShapeCase& c, std::ostream* out) {
  *out << c.arch << "/" << to_string(c.stem);
}

class EveryArchitecture : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(EveryArchitecture, ReturnsOneLogitPerClassAtSeveralSizes) {
  torch::manual_seed(1);
  for (int classes : {6, 7}) {
    for (int size : {48, 64}) {
      ModelOptions o = reference(GetParam().arch, classes);
      o.stem = GetParam().stem;
      o.image_size = size;
      const Classifier model = make_model(o);
      model->eval();
      torch::NoGradGuard no_grad;
      const torch::Tensor logits = model->forward(torch::randn({3, 1, size, size}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, classes}))
          << GetParam().arch << " at " << size << " px";
      EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
    }
  }
}

// One plain gradient step on a fixed batch must lower that batch's loss. Dropout and stochastic
// depth are off, so the loss is a deterministic function of the weights (batch-norm uses the
// batch's own statistics in training mode).
TEST_P(EveryArchitecture, OneTrainingStepLowersTheLossOnAFixedBatch) {
  torch::manual_seed(2);
  ModelOptions o = reference(GetParam().arch, 6);
  o.stem = GetParam().stem;
  o.dropout = 0.0;
  o.stochastic_depth = 0.0;
  const Classifier model = make_model(o);
  model->train();
  const torch::Tensor x = torch::randn({6, 1, 48, 48});
  const torch::Tensor y = torch::arange(6, torch::kLong);
  // VGG's N(0, 0.01) head gives small gradients (torchvision trains it at 1e-2); the deep
  // batch-norm networks are sharper at this batch size of 6.
  const double lr = GetParam().arch.starts_with("vgg") ? 1e-2 : 1e-4;
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(lr));
  const auto loss = [&] { return torch::nn::functional::cross_entropy(model->forward(x), y); };
  torch::Tensor before = loss();
  sgd.zero_grad();
  before.backward();
  sgd.step();
  const double after = loss().item<double>();
  // Well above float rounding of a loss near ln 6: a real descent, not noise.
  EXPECT_LT(after, before.item<double>() - 1e-5) << GetParam().arch;
}

// Channels-last is a layout, not a different network: the same weights give the same logits and
// gradients, and every 4-D weight must read as channels-last to LibTorch, including the 1x1 and
// depthwise kernels whose NCHW strides would also pass a channels-last contiguity check, except
// those of the layers a network keeps NCHW (at 32 px, the ImageNet-stem ResNets' last two
// stages, whose maps are 2x2 and 1x1: the NCHW and channels-last convolutions meet there). In
// double precision, so that a layout slip (say, flattening NHWC features in the wrong order) stands
// out from the float rounding that batch norm over a tiny batch amplifies.
class ChannelsLastLayout : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ChannelsLastLayout, GivesTheSameLogitsAndGradients) {
  ModelOptions o = reference(GetParam().arch, 6);
  o.stem = GetParam().stem;
  o.dropout = 0.0;
  o.stochastic_depth = 0.0;
  o.image_size = 32;
  torch::manual_seed(3);
  const Classifier nchw = make_model(o);
  nchw->to(torch::kDouble);
  torch::manual_seed(3);
  const Classifier nhwc = make_model(o);
  nhwc->to(torch::kDouble);
  use_channels_last(*nhwc);
  const std::vector<std::string> kept_nchw = nhwc->nchw_parameters();
  for (const auto& p : nhwc->named_parameters()) {
    if (p.value().dim() != 4) continue;
    const bool nchw =
        std::any_of(kept_nchw.begin(), kept_nchw.end(),
                    [&](const std::string& prefix) { return p.key().starts_with(prefix); });
    EXPECT_EQ(p.value().suggest_memory_format(),
              nchw ? torch::MemoryFormat::Contiguous : torch::MemoryFormat::ChannelsLast)
        << p.key();
  }
  const torch::Tensor x = torch::randn({4, 1, 32, 32}, torch::kDouble);
  const torch::Tensor y = torch::arange(4, torch::kLong);
  const torch::Tensor logits_nchw = nchw->forward(x);
  const torch::Tensor logits_nhwc = nhwc->forward(x);
  EXPECT_TRUE(torch::allclose(logits_nchw, logits_nhwc, 1e-9, 1e-12)) << GetParam().arch;
  torch::nn::functional::cross_entropy(logits_nchw, y).backward();
  torch::nn::functional::cross_entropy(logits_nhwc, y).backward();
  const auto expected = nchw->named_parameters();
  double largest = 0;
  for (const auto& p : expected)
    largest = std::max(largest, p.value().grad().abs().max().item<double>());
  for (const auto& p : nhwc->named_parameters()) {
    const torch::Tensor& want = expected[p.key()].grad();
    // A batch norm feeding another convolution and batch norm has a bias gradient of exactly 0
    // in exact arithmetic (the next norm removes every per-channel offset), so what is computed
    // there is rounding noise; such tensors are compared at the network's gradient scale.
    const double scale = std::max(want.abs().max().item<double>(), 1e-3 * largest);
    EXPECT_LT((p.value().grad() - want).abs().max().item<double>() / scale, 1e-9)
        << GetParam().arch << " " << p.key();
  }
}

// On a CPU, a ResNet runs the stages whose maps are 2x2 or smaller in NCHW (channels-last's
// backward pass was half again as slow there); which stages those are follows from the stem and
// the image size.
TEST(ModelZoo, ResNetsKeepStagesOnTinyMapsNchw) {
  const auto stages_kept = [](const std::string& arch, Stem stem, int image_size) {
    ModelOptions o = reference(arch, 7);
    o.stem = stem;
    o.image_size = image_size;
    return make_model(o)->nchw_parameters();
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(stages_kept("resnet18", Stem::kImageNet, 48), (Names{"layer4."}));  // 12, 6, 3, 2
  EXPECT_EQ(stages_kept("resnet50", Stem::kImageNet, 64), (Names{"layer4."}));  // 16, 8, 4, 2
  EXPECT_EQ(stages_kept("resnet34", Stem::kImageNet, 32), (Names{"layer3.", "layer4."}));
  EXPECT_EQ(stages_kept("resnet18", Stem::kImageNet, 96), Names{});  // 24, 12, 6, 3
  EXPECT_EQ(stages_kept("resnet18", Stem::kSmall, 48), Names{});
  EXPECT_EQ(stages_kept("vgg_custom", Stem::kImageNet, 48), Names{});

  ModelOptions o = reference("resnet18", 7);
  const Classifier model = make_model(o);
  use_channels_last(*model);
  const auto weights = model->named_parameters();
  EXPECT_EQ(weights["layer4.0.conv1.weight"].suggest_memory_format(),
            torch::MemoryFormat::Contiguous);
  EXPECT_EQ(weights["layer4.0.downsample.0.weight"].suggest_memory_format(),
            torch::MemoryFormat::Contiguous);
  EXPECT_EQ(weights["layer3.1.conv2.weight"].suggest_memory_format(),
            torch::MemoryFormat::ChannelsLast);
}

// Every block type once; double-precision convolutions are slow, so one stem each.
INSTANTIATE_TEST_SUITE_P(Zoo, ChannelsLastLayout,
                         ::testing::Values(ShapeCase{"vgg_custom", Stem::kImageNet},
                                           ShapeCase{"vgg16", Stem::kSmall},
                                           ShapeCase{"resnet18", Stem::kImageNet},
                                           ShapeCase{"resnet50", Stem::kImageNet},
                                           ShapeCase{"mobilenet_v2", Stem::kSmall},
                                           ShapeCase{"efficientnet_b0", Stem::kSmall}),
                         [](const auto& info) {
                           return info.param.arch +
                                  (info.param.stem == Stem::kSmall ? "_small" : "_imagenet");
                         });

INSTANTIATE_TEST_SUITE_P(
    Zoo, EveryArchitecture,
    ::testing::Values(ShapeCase{"vgg_custom", Stem::kImageNet}, ShapeCase{"vgg16", Stem::kSmall},
                      ShapeCase{"vgg16", Stem::kImageNet}, ShapeCase{"resnet18", Stem::kImageNet},
                      ShapeCase{"resnet18", Stem::kSmall}, ShapeCase{"resnet34", Stem::kSmall},
                      ShapeCase{"resnet50", Stem::kImageNet}, ShapeCase{"resnet50", Stem::kSmall},
                      ShapeCase{"mobilenet_v2", Stem::kImageNet},
                      ShapeCase{"mobilenet_v2", Stem::kSmall},
                      ShapeCase{"efficientnet_b0", Stem::kImageNet},
                      ShapeCase{"efficientnet_b0", Stem::kSmall}),
    [](const auto& info) {
      return info.param.arch + (info.param.stem == Stem::kSmall ? "_small" : "_imagenet");
    });

TEST(ModelZoo, UnbuildableLayoutsNameTheOption) {
  ModelOptions o = reference("vgg_custom");
  o.filters = {8, 8, 8, 8, 8, 8};  // six pools shrink 48 px below 1 px
  EXPECT_THROW(
      {
        try {
          make_model(o);
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("filters"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
}

// torchvision publishes multiply-accumulates at 224 px, 3 channels, 1000 classes as "GFLOPS":
// resnet18 1.81, resnet50 4.09, mobilenet_v2 0.30, efficientnet_b0 0.39, vgg16 15.47.
TEST(ModelCost, FlopsAgreeWithTorchvisionPublishedFigures) {
  const std::pair<const char*, double> published[] = {{"resnet18", 1.81},
                                                      {"resnet50", 4.09},
                                                      {"mobilenet_v2", 0.30},
                                                      {"efficientnet_b0", 0.39},
                                                      {"vgg16", 15.47}};
  for (const auto& [arch, gmacs] : published) {
    ModelOptions o = reference(arch, 1000);
    o.in_channels = 3;
    o.image_size = 224;
    EXPECT_NEAR(forward_flops(o) / 2 / 1e9, gmacs, 0.006) << arch;
  }
}

// A single 3x3 conv network is small enough to count by hand.
TEST(ModelCost, FlopsOfASmallVggMatchHandArithmetic) {
  ModelOptions o = reference("vgg_custom", 7);
  o.filters = {4};
  o.convs_per_block = 1;
  o.batch_norm = false;
  o.dense = {};
  o.image_size = 8;
  const ModelCost cost = measure_cost(o);
  const double conv = 8 * 8 * 4 * (1 * 9);  // output elements x (in channels x kernel area)
  const double linear = 7 * (4 * 4 * 4);    // after the 2x2 pool: 4x4x4 features
  EXPECT_DOUBLE_EQ(cost.forward_flops, 2 * (conv + linear));
  EXPECT_EQ(cost.parameters, (9 * 4 + 4) + (64 * 7 + 7));
}

TEST(ModelCost, TrainingMemoryGrowsWithBatchAndWidth) {
  ModelOptions narrow = reference("vgg_custom");
  narrow.filters = {8, 16};
  ModelOptions wide = narrow;
  wide.filters = {32, 64};
  const ModelCost a = measure_cost(narrow), b = measure_cost(wide);
  // Each image keeps at least the float activations of its first conv layer for backward.
  EXPECT_GT(a.bytes_per_image, 4.0 * 8 * 48 * 48);
  EXPECT_GT(b.bytes_per_image, 3.5 * a.bytes_per_image);
  // Weights and gradients at least.
  EXPECT_GE(a.fixed_bytes, 2 * 4.0 * static_cast<double>(a.parameters));
  EXPECT_GT(a.training_bytes(64, 2), a.training_bytes(32, 2));
  const double budget = a.training_bytes(100, 2);
  EXPECT_EQ(a.largest_batch(budget, 2), 100);
  EXPECT_EQ(a.largest_batch(a.fixed_bytes, 2), 0);
}

TEST(ModelCost, StepMeasurementSeesTheAdamState) {
  ModelOptions o = reference("vgg_custom");
  o.filters = {8, 16};
  const ModelCost cost = measure_cost(o);
  const StepMeasurement step = measure_training_step(o, 16, 2);
  EXPECT_GT(step.seconds, 0.0);
  // Weights, gradients and two Adam moments: four copies of the parameters at least.
  EXPECT_GE(step.peak_bytes, 4 * 4.0 * static_cast<double>(cost.parameters));
  EXPECT_NEAR(step.peak_bytes, cost.training_bytes(16, 2), 0.25 * step.peak_bytes);
}

// The resident-memory peak is reset before each measurement: a small network measured after a
// large one is not charged for the large one's memory, and each peak holds its step's tensors.
TEST(ModelReport, PeakRssFollowsEachNetworkNotTheLargestSoFar) {
  TrialConfig large;
  large.filters = {64, 128, 256};
  large.dense = {512};
  TrialConfig small;
  small.filters = {8, 16};
  small.dense = {16};
  const ModelReport big = report_model(large, 7, 48, 64, 1);
  const ModelReport little = report_model(small, 7, 48, 64, 1);
  ASSERT_GT(big.step_peak_rss_bytes, 0.0) << "no /proc/self/status VmHWM here";
  EXPECT_GE(big.step_peak_rss_bytes, big.step_peak_bytes);
  EXPECT_GE(little.step_peak_rss_bytes, little.step_peak_bytes);
  EXPECT_GT(big.step_peak_rss_bytes - little.step_peak_rss_bytes,
            0.5 * (big.step_peak_bytes - little.step_peak_bytes));
}

}  // namespace
}  // namespace fersweep::models
