#include "worker/torch_runner.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "data/dataset.h"
#include "data/synthetic_faces.h"
#include "models/model.h"
#include "models/profile.h"
#include "worker/batches.h"
#include "worker/checkpoint.h"
#include "worker/schedule.h"

namespace fersweep::worker {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrialConfig& c,
                                                        std::vector<torch::Tensor> parameters) {
  namespace optim = torch::optim;
  if (c.nesterov && (c.optimizer != "sgd" || c.momentum <= 0)) {
    throw InputError("parameters.nesterov: needs optimizer \"sgd\" with momentum > 0");
  }
  if (c.optimizer == "sgd") {
    return std::make_unique<optim::SGD>(parameters, optim::SGDOptions(c.lr)
                                                        .momentum(c.momentum)
                                                        .nesterov(c.nesterov)
                                                        .weight_decay(c.weight_decay));
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

Evaluation evaluate(models::ClassifierImpl& model, const TensorDataset& data, int num_classes) {
  torch::NoGradGuard no_grad;
  model.eval();
  Evaluation result{0.0, ConfusionMatrix(num_classes)};
  constexpr int64_t kBatch = 256;
  double loss_sum = 0;
  for (int64_t start = 0; start < data.size(); start += kBatch) {
    const int64_t count = std::min(kBatch, data.size() - start);
    const torch::Tensor x = normalise(data.images.narrow(0, start, count));
    const torch::Tensor y = data.labels.narrow(0, start, count);
    const torch::Tensor logits = model.forward(x);
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

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// The seed report's models died of out-of-memory mid-training; here a trial that cannot fit is
// refused before its first step, saying what to shrink.
void check_memory(const models::ModelOptions& options, const TrialConfig& config, double data_bytes,
                  double budget_gb) {
  if (budget_gb <= 0) return;
  const models::ModelCost cost = models::measure_cost(options);
  const int slots = models::optimizer_slots(config.optimizer, config.momentum);
  const double budget = budget_gb * kGiB - data_bytes;
  const double needed = cost.training_bytes(config.batch_size, slots);
  if (needed <= budget) return;
  const int largest = cost.largest_batch(budget, slots);
  const std::string advice =
      largest > 0 ? fmt::format("lower batch_size to {} or less, or shrink the model", largest)
                  : std::string(
                        "even batch_size 1 does not fit: shrink the model (arch, filters, "
                        "dense, width_multiplier) or the image size");
  throw std::runtime_error(fmt::format(
      "memory: {} at batch_size {} needs {:.2f} GiB ({:.0f} MiB weights, gradients and optimizer "
      "state, {:.2f} MiB per image, {:.0f} MiB data) but resources.memory_gb allows {:.2f} GiB; "
      "{}",
      options.arch, config.batch_size, (needed + data_bytes) / kGiB,
      cost.training_bytes(0, slots) / (1024 * 1024), cost.bytes_per_image / (1024 * 1024),
      data_bytes / (1024 * 1024), budget_gb, advice));
}

// The helper thread can hide batch assembly only where a core is free for it: beside a GPU, or
// when LibTorch's threads leave one. With every core computing it competes with them for no
// measurable gain (docs/BENCHMARKS.md, "Training batches"). Results are the same either way.
bool prefetch_pays() {
  const auto cores = static_cast<int>(std::thread::hardware_concurrency());
  return torch::cuda::is_available() || cores == 0 || torch::get_num_threads() < cores;
}

data::Augmentation augmentation(const TrialConfig& c) {
  return {.enabled = c.augment,
          .flip = c.flip,
          .shift = c.shift,
          .rotation = c.rotation,
          .brightness = c.brightness,
          .contrast = c.contrast,
          .erasing = c.erasing};
}

// Keeps the trial's best epoch by the sweep's objective.
class BestModelKeeper {
 public:
  BestModelKeeper(const TrialAssignment& a, const models::ModelOptions& options,
                  const std::vector<std::string>& class_names)
      : assignment_(a) {
    description_ = {
        {"trial_id", a.trial_id},     {"params", a.params}, {"model", to_json(options)},
        {"class_names", class_names}, {"data", a.data},     {"metric", a.objective_metric},
        {"maximize", a.maximize}};
  }
  void observe(const EpochMetrics& epoch, const models::Classifier& model) {
    if (assignment_.checkpoint_dir.empty()) return;
    const std::optional<double> value = epoch.value(assignment_.objective_metric);
    if (!value || !std::isfinite(*value)) return;
    if (best_ && (assignment_.maximize ? *value <= *best_ : *value >= *best_)) return;
    best_ = value;
    description_["epoch"] = epoch.epoch;
    description_["value"] = *value;
    path_ = save_checkpoint(assignment_.checkpoint_dir, assignment_.trial_id, model, description_);
  }
  const std::string& path() const { return path_; }

 private:
  const TrialAssignment& assignment_;
  nlohmann::json description_;
  std::optional<double> best_;
  std::string path_;
};

class TorchRunner final : public TrialRunner {
 public:
  explicit TorchRunner(double default_memory_gb) : default_memory_gb_(default_memory_gb) {}
  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override;

 private:
  void load_data(const DataConfig& config, const TrialConfig& trial);

  // CUDA when this LibTorch build and the machine have it (not Debian's CPU-only build).
  const torch::Device device_ = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  const double default_memory_gb_;

  nlohmann::json cached_config_;
  std::map<std::string, data::SourceImages> sources_;
  data::ImageSet train_;      // on the host: BatchStream assembles from it
  TensorDataset val_, test_;  // on the device; test_ empty for synthetic data
  int skipped_bad_ = 0;       // bad items the chosen sources skipped (skip_bad)
};

void TorchRunner::load_data(const DataConfig& config, const TrialConfig& trial) {
  nlohmann::json key = config;
  if (!config.synthetic()) key["chosen"] = {trial.sources, trial.grouping, trial.crop};
  if (key == cached_config_) return;
  if (config.synthetic()) {
    data::SyntheticOptions options;
    options.image_size = config.image_size;
    options.seed = config.seed;
    options.count = config.train_size;
    options.split = 0;
    train_ = data::generate_synthetic_faces(options);
    options.count = config.val_size;
    options.split = 1;
    val_ = to_tensors(data::generate_synthetic_faces(options), device_);
    test_ = TensorDataset{};
  } else {
    // Decoded sources stay in memory, so a sweep over groupings and subsets decodes each once.
    std::vector<std::pair<std::string, const data::SourceImages*>> chosen;
    skipped_bad_ = 0;
    for (const auto& [name, spec] : config.sources) {
      if (!trial.sources.empty() &&
          std::find(trial.sources.begin(), trial.sources.end(), name) == trial.sources.end()) {
        continue;
      }
      // Everything the decoded images depend on: the source, the size and the crop.
      const std::string cache_key =
          fmt::format("{}@{}/{}", nlohmann::json(spec).dump(), config.image_size, trial.crop);
      auto it = sources_.find(cache_key);
      if (it == sources_.end()) {
        it = sources_
                 .emplace(cache_key, data::load_source(spec, config.image_size,
                                                       data::crop_from_string(trial.crop)))
                 .first;
      }
      chosen.emplace_back(name, &it->second);
      skipped_bad_ += it->second.skipped_bad;
    }
    data::Splits splits =
        data::make_splits(chosen, data::resolve_grouping(config, trial.grouping), config);
    if (splits.train.size() == 0 || splits.val.size() == 0) {
      throw InputError(
          "data: the chosen sources and grouping leave no training or validation "
          "images");
    }
    train_ = std::move(splits.train);
    val_ = to_tensors(splits.val, device_);
    test_ = to_tensors(splits.test, device_);
  }
  cached_config_ = key;
}

TrialResult TorchRunner::run(const TrialAssignment& assignment, const EpochCallback& on_epoch) {
  const auto trial_start = Clock::now();
  if (assignment.threads > 0) set_intra_op_threads(assignment.threads);
  const TrialConfig config = TrialConfig::from_params(assignment.params);
  load_data(assignment.data, config);
  const int num_classes = static_cast<int>(train_.class_names.size());
  const models::ModelOptions options =
      models::model_options(config, num_classes, assignment.data.image_size);
  const double data_bytes =
      static_cast<double>(train_.pixels.size() + train_.labels.size() * sizeof(int) +
                          val_.images.nbytes() + val_.labels.nbytes());
  check_memory(options, config, data_bytes,
               assignment.memory_gb > 0 ? assignment.memory_gb : default_memory_gb_);

  torch::manual_seed(assignment.seed);
  BatchStream batches(train_, config.batch_size, augmentation(config),
                      config.class_balance == "balanced_sampling" ? data::Sampling::kBalanced
                                                                  : data::Sampling::kShuffle,
                      mix_seed(assignment.seed, 0xDA7A), device_, prefetch_pays());
  const models::Classifier model = models::make_model(options);
  model->to(device_);
  auto optimizer = make_optimizer(config, model->parameters());
  const int64_t steps_per_epoch = batches.batches_per_epoch();
  LrSchedule schedule(config, assignment.epochs, steps_per_epoch);
  auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config.label_smoothing);
  if (config.class_balance == "weighted_loss") {
    loss_options.weight(
        torch::tensor(data::balanced_class_weights(train_), torch::kFloat32).to(device_));
  }
  BestModelKeeper keeper(assignment, options, train_.class_names);

  TrialResult result;
  result.trial_id = assignment.trial_id;
  result.param_count = models::trainable_parameters(*model);
  result.class_names = train_.class_names;
  double train_seconds = 0;
  int64_t images_trained = 0;
  Evaluation last{0.0, ConfusionMatrix(num_classes)};
  ClassificationReport report;  // of `last`, the newest validation pass
  EpochMetrics epoch_metrics;

  for (int epoch = 1; epoch <= assignment.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model->train();
    batches.start_epoch();
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      const auto [x, y] = batches.next();
      const int64_t count = y.size(0);
      for (auto& group : optimizer->param_groups())
        group.options().set_lr(schedule.at(epoch, step));
      optimizer->zero_grad();
      const torch::Tensor logits = model->forward(x);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, loss_options);
      loss.backward();
      if (config.grad_clip > 0)
        torch::nn::utils::clip_grad_norm_(model->parameters(), config.grad_clip);
      optimizer->step();
      const double batch_loss = loss.item<double>();
      if (!std::isfinite(batch_loss)) {
        throw std::runtime_error(fmt::format("loss became {} in epoch {}", batch_loss, epoch));
      }
      loss_sum += batch_loss * static_cast<double>(count);
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    train_seconds += seconds_since(epoch_start);
    images_trained += static_cast<int64_t>(train_.size());

    last = evaluate(*model, val_, num_classes);
    schedule.end_epoch(last.loss);
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
    keeper.observe(epoch_metrics, model);
    if (on_epoch(epoch_metrics) == Decision::kStop) {
      result.status = TrialStatus::kPruned;
      break;
    }
  }

  // The held-out test split, once, with the final weights (pruned trials skip it).
  if (test_.images.defined() && test_.size() > 0 && result.status == TrialStatus::kFinished) {
    const Evaluation test = evaluate(*model, test_, num_classes);
    const ClassificationReport test_report =
        classification_report(test.confusion, test_.class_names);
    epoch_metrics.values["test_loss"] = test.loss;
    epoch_metrics.values["test_accuracy"] = test_report.accuracy;
    epoch_metrics.values["test_macro_f1"] = test_report.macro_avg.f1;
  }
  result.confusion = last.confusion.row_major();
  result.per_class = report.classes;
  result.final_metrics = epoch_metrics.values;
  if (!assignment.data.synthetic()) result.final_metrics["data_skipped_bad"] = skipped_bad_;
  result.wall_seconds = seconds_since(trial_start);
  result.images_per_second =
      train_seconds > 0 ? static_cast<double>(images_trained) / train_seconds : 0.0;
  result.checkpoint = keeper.path();
  return result;
}

}  // namespace

std::unique_ptr<TrialRunner> make_torch_runner(double default_memory_gb) {
  return std::make_unique<TorchRunner>(default_memory_gb);
}

void set_intra_op_threads(int threads) {
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

int intra_op_threads() {
  return torch::get_num_threads();
}

int64_t parameter_count(const TrialConfig& config, int num_classes, int image_size) {
  return models::trainable_parameters(
      *models::make_model(models::model_options(config, num_classes, image_size)));
}

}  // namespace fersweep::worker
