#include "worker/torch_runner.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "common/heap.h"
#include "common/random.h"
#include "common/state_files.h"
#include "models/model.h"
#include "models/profile.h"
#include "parallel/communicator.h"
#include "parallel/gradient_sync.h"
#include "worker/checkpoint.h"
#include "worker/dataset_cache.h"
#include "worker/evaluation.h"
#include "worker/optimizer.h"
#include "worker/train_step.h"
#include "worker/training_state.h"

namespace fersweep::worker {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// The seed report's models died of out-of-memory mid-training; here a trial that cannot fit is
// refused before its first step, saying what to shrink.
void check_memory(const models::ModelOptions& options, const models::ModelCost& cost,
                  const TrialConfig& config, double data_bytes, double budget_gb) {
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

// The sums of one pass over the training set.
struct EpochTotals {
  double loss_sum = 0;  // of each batch's mean loss times its size
  int64_t correct = 0;
};

class TorchRunner final : public TrialRunner {
 public:
  explicit TorchRunner(RunnerOptions options);
  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override;
  std::map<std::string, double> measure_costs(const TrialAssignment& assignment) override;

 private:
  std::unique_ptr<TrainingSetup> prepare(const TrialAssignment& assignment);
  // Everything a rank can fail at on its own is agreed on before the gang's first collective.
  std::unique_ptr<TrainingSetup> prepare_in_gang(const TrialAssignment& assignment);
  // `allowance`: the seconds the epoch may take before it reports (0: any); past it, the leader
  // stops the gang at its next step and throws ReportOverdue.
  EpochTotals train_epoch(TrainingSetup& setup, const TrialAssignment& assignment, int epoch,
                          Clock::time_point trial_start, double allowance,
                          parallel::GradientSync* sync);
  // On the leader's batch-norm statistics in a gang; under the trial's precision.
  Evaluation evaluate_model(TrainingSetup& setup, const TensorDataset& data);
  // The held-out test split, once, with the final weights, added to the last epoch's metrics.
  void add_test_metrics(TrainingSetup& setup, std::map<std::string, double>& metrics);
  // Trains and scores one epoch; `progress` takes what it measured.
  EpochMetrics run_epoch(TrainingSetup& setup, const TrialAssignment& assignment, int epoch,
                         Clock::time_point trial_start, double allowance,
                         parallel::GradientSync* sync, TrialProgress& progress);
  StateRef save_state(TrialStateFiles& states, TrainingSetup& setup, const TrialProgress& progress,
                      const BestModelKeeper& keeper);
  TrialResult result_of(TrainingSetup& setup, const TrialAssignment& assignment,
                        TrialProgress& progress, TrialStatus status, const BestModelKeeper& keeper,
                        Clock::time_point trial_start);
  int num_classes() const { return static_cast<int>(data_.train().class_names.size()); }
  // measure_cost on this runner's device, kept for the options last measured: a trial's costs
  // and its memory check before training ask for the same network.
  const models::ModelCost& model_cost(const models::ModelOptions& options);

  const torch::Device device_;
  const double default_memory_gb_;
  const std::shared_ptr<parallel::Communicator> gang_;
  DatasetCache data_;
  std::optional<std::pair<models::ModelOptions, models::ModelCost>> last_cost_;
};

torch::Device torch_device(const Device& device) {
  return device.is_cuda() ? torch::Device(torch::kCUDA, static_cast<int8_t>(device.index))
                          : torch::Device(torch::kCPU);
}

TorchRunner::TorchRunner(RunnerOptions options)
    : device_(torch_device(options.device)),
      default_memory_gb_(options.default_memory_gb),
      gang_(options.gang ? options.gang : parallel::make_local_communicator()),
      data_(device_) {
  // A sweep runs the same shapes for thousands of steps: cuDNN's per-shape autotuning pays.
  if (device_.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
}

std::unique_ptr<TrainingSetup> TorchRunner::prepare(const TrialAssignment& assignment) {
  auto setup = std::make_unique<TrainingSetup>();
  const TrialConfig& config = setup->config = TrialConfig::from_params(assignment.params);
  setup->device = device_;
  setup->bf16 = assignment.precision == Precision::kBf16;
  data_.load(assignment.data, config);
  const data::ImageSet& train = data_.train();
  setup->options = models::model_options(config, num_classes(), assignment.data.image_size);
  if (const double budget_gb = assignment.memory_gb > 0 ? assignment.memory_gb : default_memory_gb_;
      budget_gb > 0) {
    check_memory(setup->options, model_cost(setup->options), config, data_.bytes(), budget_gb);
  }

  torch::manual_seed(assignment.seed);
  // Every rank of a gang assembles the whole batch from the same stream and trains on its
  // slice: the gang sees exactly the batches, order and augmentation of one process.
  setup->batches = std::make_unique<BatchStream>(
      train, config.batch_size, augmentation(config),
      config.class_balance == ClassBalance::kBalancedSampling ? data::Sampling::kBalanced
                                                              : data::Sampling::kShuffle,
      mix_seed(assignment.seed, 0xDA7A), device_, batch_assembly(device_));
  setup->model = models::make_model(setup->options);
  setup->model->to(device_);
  models::use_channels_last(*setup->model);
  setup->optimizer = make_optimizer(config, setup->model->parameters());
  setup->schedule =
      std::make_unique<LrSchedule>(config, assignment.epochs, setup->batches->batches_per_epoch());
  setup->loss_options.label_smoothing(config.label_smoothing);
  if (config.class_balance == ClassBalance::kWeightedLoss) {
    setup->class_weights =
        torch::tensor(data::balanced_class_weights(train), torch::kFloat32).to(device_);
    setup->loss_options.weight(setup->class_weights);
  }
  return setup;
}

std::unique_ptr<TrainingSetup> TorchRunner::prepare_in_gang(const TrialAssignment& assignment) {
  std::unique_ptr<TrainingSetup> setup;
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

EpochTotals TorchRunner::train_epoch(TrainingSetup& setup, const TrialAssignment& assignment,
                                     int epoch, Clock::time_point trial_start, double allowance,
                                     parallel::GradientSync* sync) {
  const auto epoch_start = Clock::now();
  setup.model->train();
  BatchStream& batches = *setup.batches;
  batches.start_epoch();
  EpochTotals totals;
  for (int64_t step = 0; step < batches.batches_per_epoch(); ++step) {
    const Batch batch = batches.next();
    for (auto& group : setup.optimizer->param_groups())
      group.options().set_lr(setup.schedule->at(epoch, step));
    // The time limit and the report allowance hold mid-epoch too; in a gang the leader's clock
    // decides for all ranks.
    std::optional<std::string> overtime, overdue;
    if (gang_->rank() == 0) {
      overtime = time_limit_exceeded(assignment, trial_start, epoch);
      if (!overtime) overdue = report_overdue(epoch, seconds_since(epoch_start), allowance);
    }
    StepResult done;
    try {
      done = train_step(setup, batch, *gang_, sync, overtime ? overtime : overdue);
    } catch (const std::exception&) {
      if (overdue) throw ReportOverdue(*overdue);  // every rank left the step; the trial is pruned
      throw;
    }
    if (!std::isfinite(done.loss)) {
      throw std::runtime_error(fmt::format("loss became {} in epoch {}", done.loss, epoch));
    }
    totals.loss_sum += done.loss * static_cast<double>(batch.labels.size(0));
    totals.correct += done.correct;
  }
  return totals;
}

Evaluation TorchRunner::evaluate_model(TrainingSetup& setup, const TensorDataset& data) {
  // Batch-norm statistics are each rank's own; the leader's are the ones evaluated and saved.
  parallel::broadcast_buffers(*gang_, *setup.model, 0);
  const Autocast autocast(device_, setup.bf16);
  return evaluate(*setup.model, data, num_classes(), *gang_);
}

void TorchRunner::add_test_metrics(TrainingSetup& setup, std::map<std::string, double>& metrics) {
  const TensorDataset& test = data_.test();
  if (!test.images.defined() || test.size() == 0) return;
  const Evaluation scored = evaluate_model(setup, test);
  const ClassificationReport report = classification_report(scored.confusion, test.class_names);
  metrics["test_loss"] = scored.loss;
  metrics["test_accuracy"] = report.accuracy;
  metrics["test_macro_f1"] = report.macro_avg.f1;
}

EpochMetrics TorchRunner::run_epoch(TrainingSetup& setup, const TrialAssignment& assignment,
                                    int epoch, Clock::time_point trial_start, double allowance,
                                    parallel::GradientSync* sync, TrialProgress& progress) {
  const auto epoch_start = Clock::now();
  const EpochTotals totals = train_epoch(setup, assignment, epoch, trial_start, allowance, sync);
  progress.train_seconds += seconds_since(epoch_start);
  const Evaluation scored = evaluate_model(setup, data_.val());
  setup.schedule->end_epoch(scored.loss);
  const ClassificationReport report =
      classification_report(scored.confusion, data_.val().class_names);
  const auto images = static_cast<double>(data_.train().size());
  progress.epoch = epoch;
  progress.confusion = scored.confusion.row_major();
  progress.metrics = {{"train_loss", totals.loss_sum / images},
                      {"train_accuracy", static_cast<double>(totals.correct) / images},
                      {"val_loss", scored.loss},
                      {"val_accuracy", report.accuracy},
                      {"val_macro_f1", report.macro_avg.f1}};
  return EpochMetrics{assignment.trial_id, epoch, seconds_since(epoch_start), progress.metrics, {}};
}

StateRef TorchRunner::save_state(TrialStateFiles& states, TrainingSetup& setup,
                                 const TrialProgress& progress, const BestModelKeeper& keeper) {
  // Collective: every rank hands its generator to the leader, which alone writes.
  save_training_state(states.temporary_path(progress.epoch), setup, progress, keeper, *gang_);
  return states.enabled() ? states.commit(progress.epoch) : StateRef{};
}

TrialResult TorchRunner::result_of(TrainingSetup& setup, const TrialAssignment& assignment,
                                   TrialProgress& progress, TrialStatus status,
                                   const BestModelKeeper& keeper, Clock::time_point trial_start) {
  TrialResult result;
  result.trial_id = assignment.trial_id;
  result.status = status;
  result.epochs_completed = progress.epoch;
  result.param_count = models::trainable_parameters(*setup.model);
  result.class_names = data_.train().class_names;
  // Pruned trials skip the held-out test split.
  if (status == TrialStatus::kFinished) add_test_metrics(setup, progress.metrics);
  result.confusion = progress.confusion;
  result.per_class = classification_report(ConfusionMatrix(num_classes(), progress.confusion),
                                           data_.val().class_names)
                         .classes;
  result.final_metrics = progress.metrics;
  if (!assignment.data.synthetic()) result.final_metrics["data_skipped_bad"] = data_.skipped_bad();
  result.wall_seconds = seconds_since(trial_start);
  const auto images = static_cast<double>(data_.train().size());
  result.images_per_second =
      progress.train_seconds > 0 ? images * progress.epoch / progress.train_seconds : 0.0;
  result.checkpoint = keeper.path();
  return result;
}

const models::ModelCost& TorchRunner::model_cost(const models::ModelOptions& options) {
  if (!last_cost_ || last_cost_->first != options) {
    last_cost_.emplace(options, models::measure_cost(options, device_));
  }
  return last_cost_->second;
}

std::map<std::string, double> TorchRunner::measure_costs(const TrialAssignment& assignment) {
  if (assignment.threads > 0) set_intra_op_threads(assignment.threads);
  const TrialConfig config = TrialConfig::from_params(assignment.params);
  data_.load(assignment.data, config);  // the class count; kept for the training that follows
  const models::ModelOptions options =
      models::model_options(config, num_classes(), assignment.data.image_size);
  const CostRequest& request = assignment.cost_request;
  std::map<std::string, double> costs;
  if (request.memory) {
    const models::ModelCost& cost = model_cost(options);
    costs["param_count"] = static_cast<double>(cost.parameters);
    costs["flops"] = cost.forward_flops;
    const int slots = models::optimizer_slots(config.optimizer, config.momentum);
    costs["train_memory_mb"] = cost.training_bytes(config.batch_size, slots) / (1024.0 * 1024.0);
  } else {
    const models::ModelSize size = models::measure_size(options);
    costs["param_count"] = static_cast<double>(size.parameters);
    costs["flops"] = size.forward_flops;
  }
  if (request.latency) {
    const std::vector<double> ms = models::measure_inference_ms(
        options, {1, request.inference_batch}, request.latency_repeats, device_);
    costs["inference_ms"] = ms[0];
    costs["batch_inference_ms"] = ms[1];
  }
  return costs;
}

TrialResult TorchRunner::run(const TrialAssignment& assignment, const EpochCallback& on_epoch) {
  const auto trial_start = Clock::now();
  if (assignment.threads > 0) set_intra_op_threads(assignment.threads);
  const bool in_gang = gang_->size() > 1;
  const std::unique_ptr<TrainingSetup> setup =
      in_gang ? prepare_in_gang(assignment) : prepare(assignment);
  std::optional<parallel::GradientSync> sync;
  if (in_gang) {
    const auto bucket_bytes = static_cast<int64_t>(assignment.bucket_mb * 1024 * 1024);
    sync.emplace(*gang_, setup->model->parameters(),
                 parallel::GradientSync::Options{.bucket_bytes = bucket_bytes});
  }
  // Only the gang's leader writes checkpoints and state files.
  TrialAssignment leader = assignment;
  if (gang_->rank() != 0) leader.checkpoint_dir.clear(), leader.state_dir.clear();
  BestModelKeeper keeper(leader, setup->options, data_.train().class_names);
  TrialStateFiles states(leader);
  TrialProgress progress;
  if (!assignment.resume.empty()) {
    progress = load_training_state(assignment.resume.path, *setup, keeper, gang_->rank());
  }
  TrialStatus status = TrialStatus::kFinished;
  double allowance = assignment.report_allowance_seconds;
  for (int epoch = progress.epoch + 1; epoch <= assignment.epochs; ++epoch) {
    EpochMetrics metrics = run_epoch(*setup, assignment, epoch, trial_start, allowance,
                                     sync ? &*sync : nullptr, progress);
    keeper.observe(metrics, setup->model);
    if (!assignment.state_dir.empty()) metrics.state = save_state(states, *setup, progress, keeper);
    const EpochVerdict verdict = on_epoch(metrics);
    states.acknowledged(epoch);
    allowance = verdict.next_report_allowance;
    if (verdict.decision == Decision::kContinue) continue;
    status = verdict.decision == Decision::kPause ? TrialStatus::kPaused : TrialStatus::kPruned;
    break;
  }
  return result_of(*setup, assignment, progress, status, keeper, trial_start);
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
