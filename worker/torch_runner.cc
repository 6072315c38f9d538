#include "worker/torch_runner.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "common/heap.h"
#include "common/random.h"
#include "data/dataset.h"
#include "data/synthetic_faces.h"
#include "models/model.h"
#include "models/profile.h"
#include "parallel/communicator.h"
#include "parallel/gradient_sync.h"
#include "parallel/shard.h"
#include "worker/batches.h"
#include "worker/checkpoint.h"
#include "worker/evaluation.h"
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

// On a GPU, batches are made there from the resident uint8 set. Otherwise the helper thread can
// hide host assembly only where a core is free for it (a CPU trial on a GPU node, or LibTorch's
// threads leaving one); with every core computing it competes with them for no measurable gain
// (docs/BENCHMARKS.md, "Training batches"). The batches are the same every way, bar contrast
// jitter's last bits on the device (worker/device_augment.h).
Assembly batch_assembly(const torch::Device& device) {
  if (device.is_cuda()) return Assembly::kOnDevice;
  const auto cores = static_cast<int>(std::thread::hardware_concurrency());
  const bool prefetch =
      torch::cuda::is_available() || cores == 0 || torch::get_num_threads() < cores;
  return prefetch ? Assembly::kPrefetch : Assembly::kInline;
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

// Forward passes in bfloat16 where autocast allows it (convolutions, matrix products), as
// torch.autocast does; backward follows the forward's types. Weights, gradients and optimizer
// state stay float32, so no loss scaling is needed.
class Autocast {
 public:
  Autocast(const torch::Device& device, bool enabled) : cuda_(device.is_cuda()), enabled_(enabled) {
    if (!enabled_) return;
    was_enabled_ = cuda_ ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    if (cuda_) {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
      at::autocast::set_enabled(was_enabled_);
    } else {
      at::autocast::set_cpu_enabled(was_enabled_);
    }
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool cuda_, enabled_, was_enabled_ = false;
};

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
  explicit TorchRunner(RunnerOptions options);
  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override;

 private:
  // What a trial trains with, built before its first step.
  struct Setup {
    TrialConfig config;
    models::ModelOptions options;
    std::unique_ptr<BatchStream> batches;
    models::Classifier model{nullptr};
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::unique_ptr<LrSchedule> schedule;
    torch::nn::functional::CrossEntropyFuncOptions loss_options;
    torch::Tensor class_weights;  // defined for class_balance "weighted_loss"
    bool bf16 = false;            // resources.precision "bf16"
  };
  struct StepResult {
    double loss = 0;  // mean over the batch
    int64_t correct = 0;
  };

  void load_data(const DataConfig& config, const TrialConfig& trial);
  std::unique_ptr<Setup> prepare(const TrialAssignment& assignment);
  // Everything a rank can fail at on its own is agreed on before the gang's first collective.
  std::unique_ptr<Setup> prepare_in_gang(const TrialAssignment& assignment);
  StepResult local_step(Setup& setup, const Batch& batch);
  // `failure`: this rank's reason to leave the trial before the step (the leader's clock).
  StepResult gang_step(Setup& setup, const Batch& batch, parallel::GradientSync& sync,
                       std::optional<std::string> failure);
  // On the leader's batch-norm statistics in a gang; under the trial's precision.
  Evaluation evaluate_model(Setup& setup, const TensorDataset& data, int num_classes);

  const torch::Device device_;
  const double default_memory_gb_;
  const std::shared_ptr<parallel::Communicator> gang_;

  nlohmann::json cached_config_;
  std::map<std::string, data::SourceImages> sources_;
  data::ImageSet train_;      // on the host: BatchStream assembles from it
  TensorDataset val_, test_;  // on the device; test_ empty for synthetic data
  int skipped_bad_ = 0;       // bad items the chosen sources skipped (skip_bad)
};

torch::Device choose_device(const std::string& device) {
  if (device == "auto") return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  try {
    return torch::Device(device);
  } catch (const std::exception&) {
    throw InputError(fmt::format("--device: expected auto, cpu or cuda:N, got \"{}\"", device));
  }
}

TorchRunner::TorchRunner(RunnerOptions options)
    : device_(choose_device(options.device)),
      default_memory_gb_(options.default_memory_gb),
      gang_(options.gang ? options.gang : parallel::make_local_communicator()) {
  // A sweep runs the same shapes for thousands of steps: cuDNN's per-shape autotuning pays.
  if (device_.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
}

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

std::unique_ptr<TorchRunner::Setup> TorchRunner::prepare(const TrialAssignment& assignment) {
  auto setup = std::make_unique<Setup>();
  const TrialConfig& config = setup->config = TrialConfig::from_params(assignment.params);
  setup->bf16 = assignment.precision == "bf16";
  load_data(assignment.data, config);
  const int num_classes = static_cast<int>(train_.class_names.size());
  setup->options = models::model_options(config, num_classes, assignment.data.image_size);
  const double data_bytes =
      static_cast<double>(train_.pixels.size() + train_.labels.size() * sizeof(int) +
                          val_.images.nbytes() + val_.labels.nbytes());
  check_memory(setup->options, config, data_bytes,
               assignment.memory_gb > 0 ? assignment.memory_gb : default_memory_gb_);

  torch::manual_seed(assignment.seed);
  // Every rank of a gang assembles the whole batch from the same stream and trains on its
  // slice: the gang sees exactly the batches, order and augmentation of one process.
  setup->batches = std::make_unique<BatchStream>(
      train_, config.batch_size, augmentation(config),
      config.class_balance == "balanced_sampling" ? data::Sampling::kBalanced
                                                  : data::Sampling::kShuffle,
      mix_seed(assignment.seed, 0xDA7A), device_, batch_assembly(device_));
  setup->model = models::make_model(setup->options);
  setup->model->to(device_);
  models::use_channels_last(*setup->model);
  setup->optimizer = make_optimizer(config, setup->model->parameters());
  setup->schedule =
      std::make_unique<LrSchedule>(config, assignment.epochs, setup->batches->batches_per_epoch());
  setup->loss_options.label_smoothing(config.label_smoothing);
  if (config.class_balance == "weighted_loss") {
    setup->class_weights =
        torch::tensor(data::balanced_class_weights(train_), torch::kFloat32).to(device_);
    setup->loss_options.weight(setup->class_weights);
  }
  return setup;
}

std::unique_ptr<TorchRunner::Setup> TorchRunner::prepare_in_gang(
    const TrialAssignment& assignment) {
  std::unique_ptr<Setup> setup;
  std::optional<std::string> failure;
  try {
    setup = prepare(assignment);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  parallel::agree(*gang_, failure);
  parallel::broadcast_state(*gang_, *setup->model, 0);
  // Dropout and stochastic depth draw differently on each rank, as under PyTorch DDP.
  torch::manual_seed(mix_seed(assignment.seed, 0x6A9600 + static_cast<uint64_t>(gang_->rank())));
  return setup;
}

TorchRunner::StepResult TorchRunner::local_step(Setup& setup, const Batch& batch) {
  setup.optimizer->zero_grad();
  torch::Tensor logits, loss;
  {
    const Autocast autocast(device_, setup.bf16);
    logits = setup.model->forward(batch.images);
    loss = torch::nn::functional::cross_entropy(logits, batch.labels, setup.loss_options);
  }
  loss.backward();
  if (setup.config.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(setup.model->parameters(), setup.config.grad_clip);
  setup.optimizer->step();
  return {loss.item<double>(), logits.argmax(1).eq(batch.labels).sum().item<int64_t>()};
}

TorchRunner::StepResult TorchRunner::gang_step(Setup& setup, const Batch& batch,
                                               parallel::GradientSync& sync,
                                               std::optional<std::string> failure) {
  const parallel::Shard shard =
      parallel::shard_of(batch.labels.size(0), gang_->rank(), gang_->size());
  setup.optimizer->zero_grad();
  sync.begin_step();
  double loss_part = 0;
  int64_t correct = 0;
  try {
    if (shard.count > 0 && !failure) {
      const torch::Tensor x = batch.images.narrow(0, shard.begin, shard.count);
      const torch::Tensor y = batch.labels.narrow(0, shard.begin, shard.count);
      // The slice's summed loss over the whole batch's denominator: the gang's summed gradients
      // are then exactly those of the batch's mean loss on one process.
      const double denominator =
          setup.class_weights.defined()
              ? setup.class_weights.index_select(0, batch.labels).sum().item<double>()
              : static_cast<double>(batch.labels.size(0));
      auto summed = setup.loss_options;
      summed.reduction(torch::kSum);
      torch::Tensor logits, loss;
      {
        const Autocast autocast(device_, setup.bf16);
        logits = setup.model->forward(x);
        loss = torch::nn::functional::cross_entropy(logits, y, summed) / denominator;
      }
      loss.backward();
      loss_part = loss.item<double>();
      correct = logits.argmax(1).eq(y).sum().item<int64_t>();
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  sync.finish_step();  // also after a failure: the other ranks wait for this rank's buckets
  parallel::agree(*gang_, failure);
  std::vector<double> totals{loss_part, static_cast<double>(correct)};
  gang_->sum(totals);
  if (setup.config.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(setup.model->parameters(), setup.config.grad_clip);
  setup.optimizer->step();
  return {totals[0], static_cast<int64_t>(totals[1])};
}

Evaluation TorchRunner::evaluate_model(Setup& setup, const TensorDataset& data, int num_classes) {
  // Batch-norm statistics are each rank's own; the leader's are the ones evaluated and saved.
  parallel::broadcast_buffers(*gang_, *setup.model, 0);
  const Autocast autocast(device_, setup.bf16);
  return evaluate(*setup.model, data, num_classes, *gang_);
}

TrialResult TorchRunner::run(const TrialAssignment& assignment, const EpochCallback& on_epoch) {
  const auto trial_start = Clock::now();
  if (assignment.threads > 0) set_intra_op_threads(assignment.threads);
  const bool in_gang = gang_->size() > 1;
  const std::unique_ptr<Setup> setup = in_gang ? prepare_in_gang(assignment) : prepare(assignment);
  const models::Classifier& model = setup->model;
  BatchStream& batches = *setup->batches;
  std::optional<parallel::GradientSync> sync;
  if (in_gang) {
    const auto bucket_bytes = static_cast<int64_t>(assignment.bucket_mb * 1024 * 1024);
    sync.emplace(*gang_, model->parameters(),
                 parallel::GradientSync::Options{.bucket_bytes = bucket_bytes});
  }
  const int num_classes = static_cast<int>(train_.class_names.size());
  const int64_t steps_per_epoch = batches.batches_per_epoch();
  // Only the gang's leader writes checkpoints.
  TrialAssignment keeper_assignment = assignment;
  if (gang_->rank() != 0) keeper_assignment.checkpoint_dir.clear();
  BestModelKeeper keeper(keeper_assignment, setup->options, train_.class_names);

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
      const Batch batch = batches.next();
      const int64_t count = batch.labels.size(0);
      for (auto& group : setup->optimizer->param_groups())
        group.options().set_lr(setup->schedule->at(epoch, step));
      // The time limit holds mid-epoch too; in a gang the leader's clock decides for all ranks.
      std::optional<std::string> overtime;
      if (gang_->rank() == 0) overtime = time_limit_exceeded(assignment, trial_start, epoch);
      if (overtime && !sync) throw std::runtime_error(*overtime);
      const StepResult done =
          sync ? gang_step(*setup, batch, *sync, overtime) : local_step(*setup, batch);
      if (!std::isfinite(done.loss)) {
        throw std::runtime_error(fmt::format("loss became {} in epoch {}", done.loss, epoch));
      }
      loss_sum += done.loss * static_cast<double>(count);
      correct += done.correct;
    }
    train_seconds += seconds_since(epoch_start);
    images_trained += static_cast<int64_t>(train_.size());

    last = evaluate_model(*setup, val_, num_classes);
    setup->schedule->end_epoch(last.loss);
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
    const Evaluation test = evaluate_model(*setup, test_, num_classes);
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

// LibTorch's CPU allocator is malloc, and a worker runs the same steps over and over.
std::unique_ptr<TrialRunner> make_torch_runner(RunnerOptions options) {
  keep_freed_memory_for_reuse();
  return std::make_unique<TorchRunner>(std::move(options));
}

int cuda_device_count() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
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
