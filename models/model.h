#pragma once
// The model zoo's one entry point: ModelOptions say which architecture and how big, make_model
// builds it. Every network takes [N, in_channels, H, W] images and returns [N, num_classes]
// logits, for any H = W from 32 px up.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/trial.h"
#include "models/inference_graph.h"

namespace fersweep::models {

// How an ImageNet network meets its input. kImageNet is the reference layout (what the parameter
// counts in docs/MODELS.md are checked against); kSmall keeps resolution for 48 px faces: stride 1
// in the first convolution and no stem max-pool (VGG16: a 1x1 instead of a 7x7 pooled head).
enum class Stem { kImageNet, kSmall };
Stem stem_from_string(const std::string& text);
std::string to_string(Stem stem);

struct ModelOptions {
  std::string arch = "vgg_custom";
  int in_channels = 1;
  int num_classes = 7;
  int image_size = 48;
  Stem stem = Stem::kImageNet;
  // vgg_custom only
  std::vector<int> filters = {32, 64, 128, 256};
  int convs_per_block = 2;
  bool batch_norm = true;
  std::vector<int> dense = {256};
  bool dense_batch_norm = false;
  // Dropout before (VGG: between) the classifier layers; unset means the reference's value.
  std::optional<double> dropout;
  double width_multiplier = 1.0;  // mobilenet_v2
  double stochastic_depth = 0.2;  // efficientnet_b0: drop rate of the last block

  bool operator==(const ModelOptions&) const = default;
};

// The hyperparameters of a trial that shape its network, for a data set of `num_classes` classes
// at `image_size` px.
ModelOptions model_options(const TrialConfig& config, int num_classes, int image_size,
                           int in_channels = 1);

// Common base of the zoo, so that trainers hold any architecture behind one pointer, and
// exporters walk any of them: describe() turns normalised images into logits, as forward() does.
class ClassifierImpl : public torch::nn::Module, public DescribedLayer {
 public:
  virtual torch::Tensor forward(torch::Tensor images) = 0;
  // The parameters (by name prefix) of the layers that run on maps too small for channels-last
  // to pay on a CPU: use_channels_last leaves them NCHW there, and forward() hands those layers
  // NCHW activations on a CPU.
  virtual std::vector<std::string> nchw_parameters() const { return {}; }
};
using Classifier = std::shared_ptr<ClassifierImpl>;

// Throws std::invalid_argument naming the offending option when the layout cannot be built.
Classifier make_model(const ModelOptions& options);

// Stores every 4-D parameter and buffer channels-last (NHWC). oneDNN and cuDNN then run the
// convolutions, batch norm and pooling in that layout end to end: on CPU 1.2x (VGG) to 2x
// (MobileNetV2) faster per step than NCHW (docs/BENCHMARKS.md). Results agree with NCHW to
// rounding; inputs need no change, a convolution follows its weight's layout. On a CPU, a
// classifier's nchw_parameters() stay NCHW.
void use_channels_last(torch::nn::Module& module);

int64_t trainable_parameters(const torch::nn::Module& module);
// Elements of registered buffers (batch-norm running statistics and counters).
int64_t buffer_elements(const torch::nn::Module& module);

}  // namespace fersweep::models
