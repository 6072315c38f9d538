#include "worker/torch_runner.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "common/random.h"
#include "data/synthetic_faces.h"
#include "worker/batches.h"
#include "worker/vgg.h"

namespace fersweep::worker {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

VggOptions vgg_options(const TrialConfig& c, int num_classes, int image_size) {
  if (c.arch != "vgg_custom") throw std::invalid_argument("arch: unsupported " + c.arch);
  VggOptions o;
  o.num_classes = num_classes;
  o.image_size = image_size;
  o.filters = c.filters;
  o.convs_per_block = c.convs_per_block;
  o.batch_norm = c.batch_norm;
  o.dense = c.dense;
  o.dropout = c.dropout;
  return o;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrialConfig& c,
                                                        std::vector<torch::Tensor> parameters) {
  namespace optim = torch::optim;
  if (c.optimizer == "sgd") {
    return std::make_unique<optim::SGD>(
        parameters, optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay));
  }
  if (c.optimizer == "adamw") {
    return std::make_unique<optim::AdamW>(parameters,
                                          optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
  }
  if (c.optimizer == "adam") {
    return std::make_unique<optim::Adam>(parameters,
                                         optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  }
  throw std::invalid_argument("optimizer: unsupported " + c.optimizer);
}

struct Evaluation {
  double loss = 0;
  ConfusionMatrix confusion;
};

Evaluation evaluate(VggCustom& model, const TensorDataset& data, int num_classes) {
  torch::NoGradGuard no_grad;
  model->eval();
  Evaluation result{0.0, ConfusionMatrix(num_classes)};
  constexpr int64_t kBatch = 256;
  double loss_sum = 0;
  for (int64_t start = 0; start < data.size(); start += kBatch) {
    const int64_t count = std::min(kBatch, data.size() - start);
    const torch::Tensor x = normalise(data.images.narrow(0, start, count));
    const torch::Tensor y = data.labels.narrow(0, start, count);
    const torch::Tensor logits = model->forward(x);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    const torch::Tensor cells =
        torch::bincount(y * num_classes + logits.argmax(1), {}, num_classes * num_classes);
    const torch::Tensor host_cells = cells.to(torch::kCPU);
    const auto* counts = host_cells.data_ptr<int64_t>();
    for (int a = 0; a < num_classes; ++a) {
      for (int p = 0; p < num_classes; ++p) result.confusion.add(a, p, counts[a * num_classes + p]);
    }
  }
  result.loss = loss_sum / static_cast<double>(data.size());
  return result;
}

class TorchRunner final : public TrialRunner {
 public:
  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override;

 private:
  void load_data(const DataConfig& config);

  // CUDA when this LibTorch build and the machine have it (not Debian's CPU-only build).
  const torch::Device device_ = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;

  nlohmann::json cached_config_;
  TensorDataset train_, val_;
};

void TorchRunner::load_data(const DataConfig& config) {
  const nlohmann::json key = config;
  if (key == cached_config_) return;
  data::SyntheticOptions options;
  options.image_size = config.image_size;
  options.seed = config.seed;
  options.count = config.train_size;
  options.split = 0;
  train_ = to_tensors(data::generate_synthetic_faces(options), device_);
  options.count = config.val_size;
  options.split = 1;
  val_ = to_tensors(data::generate_synthetic_faces(options), device_);
  cached_config_ = key;
}

TrialResult TorchRunner::run(const TrialAssignment& assignment, const EpochCallback& on_epoch) {
  const auto trial_start = Clock::now();
  if (assignment.threads > 0) set_intra_op_threads(assignment.threads);
  const TrialConfig config = TrialConfig::from_params(assignment.params);
  load_data(assignment.data);
  const int num_classes = static_cast<int>(train_.class_names.size());

  torch::manual_seed(assignment.seed);
  Rng rng(mix_seed(assignment.seed, 0xDA7A));
  VggCustom model(vgg_options(config, num_classes, assignment.data.image_size));
  model->to(device_);
  auto optimizer = make_optimizer(config, model->parameters());

  TrialResult result;
  result.trial_id = assignment.trial_id;
  result.param_count = count_trainable_parameters(*model);
  result.class_names = train_.class_names;
  double train_seconds = 0;
  int64_t images_trained = 0;
  Evaluation last{0.0, ConfusionMatrix(num_classes)};
  ClassificationReport report;  // of `last`, the newest validation pass
  EpochMetrics epoch_metrics;

  for (int epoch = 1; epoch <= assignment.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model->train();
    const torch::Tensor order = permutation(train_.size(), rng).to(device_);
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t start = 0; start < train_.size(); start += config.batch_size) {
      const int64_t count = std::min<int64_t>(config.batch_size, train_.size() - start);
      const torch::Tensor index = order.narrow(0, start, count);
      torch::Tensor x = normalise(train_.images.index_select(0, index));
      if (config.augment) x = augment(x, rng, 2);
      const torch::Tensor y = train_.labels.index_select(0, index);
      optimizer->zero_grad();
      const torch::Tensor logits = model->forward(x);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
      loss.backward();
      optimizer->step();
      const double batch_loss = loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        throw std::runtime_error(fmt::format("loss became {} in epoch {}", batch_loss, epoch));
      }
      loss_sum += batch_loss * static_cast<double>(count);
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    train_seconds += seconds_since(epoch_start);
    images_trained += train_.size();

    last = evaluate(model, val_, num_classes);
    report = classification_report(last.confusion, val_.class_names);
    const auto images = static_cast<double>(train_.size());
    epoch_metrics = EpochMetrics{assignment.trial_id,
                                 epoch,
                                 seconds_since(epoch_start),
                                 {{"train_loss", loss_sum / images},
                                  {"train_accuracy", static_cast<double>(correct) / images},
                                  {"val_loss", last.loss},
                                  {"val_accuracy", report.accuracy},
                                  {"val_macro_f1", report.macro_avg.f1}}};
    result.epochs_completed = epoch;
    if (on_epoch(epoch_metrics) == Decision::kStop) {
      result.status = TrialStatus::kPruned;
      break;
    }
  }

  result.confusion = last.confusion.row_major();
  result.per_class = report.classes;
  result.final_metrics = epoch_metrics.values;
  result.wall_seconds = seconds_since(trial_start);
  result.images_per_second =
      train_seconds > 0 ? static_cast<double>(images_trained) / train_seconds : 0.0;
  return result;
}

}  // namespace

std::unique_ptr<TrialRunner> make_torch_runner() {
  return std::make_unique<TorchRunner>();
}

void set_intra_op_threads(int threads) {
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

int intra_op_threads() {
  return torch::get_num_threads();
}

int64_t parameter_count(const TrialConfig& config, int num_classes, int image_size) {
  VggCustom model(vgg_options(config, num_classes, image_size));
  return count_trainable_parameters(*model);
}

}  // namespace fersweep::worker
