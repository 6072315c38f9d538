#pragma once
// What travels between coordinator and workers: the trial's hyperparameters, the data it trains
// on, per-epoch metrics and the final result. Plain data with JSON codecs; no LibTorch, no MPI.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/constraints.h"
#include "common/data_config.h"
#include "common/enum_names.h"
#include "common/metrics.h"

namespace fersweep {

enum class Optimizer { kAdam, kAdamW, kSgd };
enum class Schedule { kConstant, kStep, kCosine, kPlateau };
// none | weighted_loss (inverse class frequency) | balanced_sampling (uniform class per draw)
enum class ClassBalance { kNone, kWeightedLoss, kBalancedSampling };
// fp32, or bf16: forward passes under bfloat16 autocast, weights and optimizer state in float32.
enum class Precision { kFp32, kBf16 };

template <>
struct EnumNames<Optimizer> {
  static constexpr std::array<EnumName<Optimizer>, 3> table{
      {{Optimizer::kAdam, "adam"}, {Optimizer::kAdamW, "adamw"}, {Optimizer::kSgd, "sgd"}}};
};
template <>
struct EnumNames<Schedule> {
  static constexpr std::array<EnumName<Schedule>, 4> table{{{Schedule::kConstant, "constant"},
                                                            {Schedule::kStep, "step"},
                                                            {Schedule::kCosine, "cosine"},
                                                            {Schedule::kPlateau, "plateau"}}};
};
template <>
struct EnumNames<ClassBalance> {
  static constexpr std::array<EnumName<ClassBalance>, 3> table{
      {{ClassBalance::kNone, "none"},
       {ClassBalance::kWeightedLoss, "weighted_loss"},
       {ClassBalance::kBalancedSampling, "balanced_sampling"}}};
};
template <>
struct EnumNames<Precision> {
  static constexpr std::array<EnumName<Precision>, 2> table{
      {{Precision::kFp32, "fp32"}, {Precision::kBf16, "bf16"}}};
};

// Hyperparameters of one trial, with defaults for anything the spec leaves out. The names of the
// fields are the parameter names a sweep spec may use.
struct TrialConfig {
  // Data (see docs/DATA.md): which of the spec's data.sources (empty: all) and which grouping
  std::vector<std::string> sources;
  std::string grouping = "fer7";
  std::string crop = "none";  // none | face: crop every image to the detected face first
  // Network (see docs/MODELS.md)
  std::string arch = "vgg_custom";  // one of architecture_names()
  std::string stem = "imagenet";    // imagenet (the reference layout) | small (keeps 48 px)
  std::vector<int> filters = {32, 64, 128,
                              256};  // vgg_custom: channels per block, one max-pool each
  int convs_per_block = 2;           // vgg_custom
  bool batch_norm = true;            // vgg_custom: after every convolution
  std::vector<int> dense = {256};    // vgg_custom: hidden dense widths before the classifier
  bool dense_batch_norm = false;     // vgg_custom: after every hidden dense layer
  std::optional<double> dropout;  // classifier dropout; unset: the architecture's reference value
  double width_multiplier = 1.0;  // mobilenet_v2
  double stochastic_depth = 0.2;  // efficientnet_b0: drop rate reached by the last block
  // Training
  int batch_size = 64;
  double lr = 1e-3;
  Optimizer optimizer = Optimizer::kAdam;
  double momentum = 0.9;  // sgd only
  bool nesterov = false;  // sgd only
  double weight_decay = 0.0;
  double label_smoothing = 0.0;
  double grad_clip = 0.0;  // max global L2 norm of the gradients; 0: no clipping
  Schedule schedule = Schedule::kConstant;
  int warmup_epochs = 0;     // linear warm-up from lr / steps, per step
  int step_size = 10;        // step: epochs between decays
  double lr_decay = 0.1;     // step and plateau: factor per decay
  int plateau_patience = 2;  // plateau: epochs without a better val_loss before a decay
  double min_lr = 0.0;       // cosine: final rate; plateau: floor
  // Augmentation of training images (docs/DATA.md#augmentation); `augment` false turns all off.
  bool augment = true;
  bool flip = true;       // horizontal, with probability 1/2
  int shift = 2;          // pixels per axis, at most
  double rotation = 0;    // degrees, at most
  double brightness = 0;  // factor in [1 - b, 1 + b]
  double contrast = 0;    // factor in [1 - c, 1 + c]
  double erasing = 0;     // probability of erasing a random rectangle
  ClassBalance class_balance = ClassBalance::kNone;

  // Unknown names or bad values throw InputError("parameters.<name>: ...").
  static TrialConfig from_params(const nlohmann::json& params);
  // Empty when `value` is acceptable for parameter `name`, else what is wrong with it.
  static std::string parameter_problem(const std::string& name, const nlohmann::json& value);
  static const std::vector<std::string>& parameter_names();
};

// Every network architecture a trial may name, in the order `fersweep models` lists them.
const std::vector<std::string>& architecture_names();

// A trial's complete training state after an epoch, in one file (common/state_files.h).
struct StateRef {
  std::string path;     // empty: none
  int epoch = 0;        // the epoch it was written after
  uint64_t digest = 0;  // FNV-1a of the file's bytes: checked before a trial continues from it

  bool empty() const { return path.empty(); }
  bool operator==(const StateRef&) const = default;
};

struct TrialAssignment {
  int64_t trial_id = 0;
  int number = 0;  // position in the sweep, 0-based
  nlohmann::json params = nlohmann::json::object();
  int epochs = 1;
  uint64_t seed = 0;
  DataConfig data;
  int threads = 0;       // intra-op threads; 0 = leave as the process set it
  double memory_gb = 0;  // the worker's memory budget (spec resources.memory_gb); 0: its own
  // Spec failures.trial_time_limit: a trial still running this many seconds after it started
  // fails at its next training step (a benchmark trial: at its next epoch). 0: no limit.
  double time_limit_seconds = 0;
  // How long its first epoch may take before the trial ends pruned without reporting it (ASHA's
  // report deadline, search_spaces/pruners.h); each later decision sets the next epoch's. 0: any.
  double report_allowance_seconds = 0;
  // Spec resources.bucket_mb: gradients of a multi-rank trial are summed in buckets this large.
  double bucket_mb = 25;
  Precision precision = Precision::kFp32;  // spec resources.precision
  // Where to keep the trial's best model (`trial_<id>.json` and its weights); empty: nowhere.
  std::string checkpoint_dir;
  std::string objective_metric = "val_accuracy";  // what "best" means for the checkpoint
  bool maximize = true;
  // Null: train the network with LibTorch. Otherwise the spec's "benchmark" object: evaluate that
  // known function instead of training (see benchmarks/functions.h).
  nlohmann::json benchmark;
  // Where the trial writes its training state after every epoch; empty: it writes none.
  std::string state_dir;
  // How many times this trial was handed out before: a continuation's state files never share a
  // name with those of an earlier run of the same trial (a lost worker may still be writing).
  int run = 0;
  // Continue from this state: its epoch's successor is the first to train. Empty: from scratch.
  StateRef resume;
  // The spec's constraints: those on costs are checked before training (a trial breaking one is
  // never trained), the coordinator checks the rest after it.
  std::vector<Constraint> constraints;
  CostRequest cost_request;
  // Set by a gang's leader, which measures once for the gang: every rank then decides alike.
  std::optional<std::map<std::string, double>> costs;
};

// One epoch's metrics by name (the LibTorch trainer reports epoch_metric_names(); a benchmark
// function reports its own), so an objective or an early-stopping rule can use any of them.
struct EpochMetrics {
  int64_t trial_id = 0;
  int epoch = 0;  // 1-based
  double seconds = 0;
  std::map<std::string, double> values;
  StateRef state;  // the training state written after this epoch, if any

  std::optional<double> value(const std::string& name) const;
};

// A trial's life: pending (sampled, not handed out) -> running -> one of the ends. `interrupted`:
// its sweep stopped (a signal, a crash, a lost worker) while it ran; --resume continues it.
// `paused`: it waits at a rung of promotion-based ASHA, its state kept, for a promotion.
// `infeasible`: it broke a constraint (common/constraints.h), before training or after it.
enum class TrialStatus {
  kPending,
  kRunning,
  kPaused,
  kFinished,
  kPruned,
  kFailed,
  kInterrupted,
  kInfeasible
};
template <>
struct EnumNames<TrialStatus> {
  static constexpr std::array<EnumName<TrialStatus>, 8> table{
      {{TrialStatus::kPending, "pending"},
       {TrialStatus::kRunning, "running"},
       {TrialStatus::kPaused, "paused"},
       {TrialStatus::kFinished, "finished"},
       {TrialStatus::kPruned, "pruned"},
       {TrialStatus::kFailed, "failed"},
       {TrialStatus::kInterrupted, "interrupted"},
       {TrialStatus::kInfeasible, "infeasible"}}};
};
// What became of a trial at a rung of ASHA or Hyperband: stopping mode continues or stops it;
// promotion mode pauses it there, then promotes it, or stops it when the sweep ends first.
enum class RungOutcome { kContinued, kStopped, kPaused, kPromoted };
template <>
struct EnumNames<RungOutcome> {
  static constexpr std::array<EnumName<RungOutcome>, 4> table{
      {{RungOutcome::kContinued, "continued"},
       {RungOutcome::kStopped, "stopped"},
       {RungOutcome::kPaused, "paused"},
       {RungOutcome::kPromoted, "promoted"}}};
};

// Finished, pruned, failed or infeasible: judged, and never run again (unless a failure is
// retried).
bool is_judged(TrialStatus status);

enum class SweepStatus { kRunning, kFinished, kFailed, kInterrupted };
template <>
struct EnumNames<SweepStatus> {
  static constexpr std::array<EnumName<SweepStatus>, 4> table{
      {{SweepStatus::kRunning, "running"},
       {SweepStatus::kFinished, "finished"},
       {SweepStatus::kFailed, "failed"},
       {SweepStatus::kInterrupted, "interrupted"}}};
};

// The first metric that is NaN or infinite, as "name is value", or nothing.
std::optional<std::string> non_finite_metric(const std::map<std::string, double>& values);

struct TrialResult {
  int64_t trial_id = 0;
  TrialStatus status = TrialStatus::kFinished;
  std::string error;  // set when failed, infeasible, or stopped without reporting an epoch
  int epochs_completed = 0;
  std::vector<std::string> class_names;
  std::vector<int64_t> confusion;  // validation set after the last epoch, [actual][predicted]
  std::vector<ClassMetrics> per_class;
  std::map<std::string, double> final_metrics;  // the last epoch's metrics by name
  double wall_seconds = 0;
  double images_per_second = 0;  // training images processed per second of training
  int64_t param_count = 0;
  std::string checkpoint;  // path of the best model's .json description; empty when none kept
};

// Ends `result` infeasible: the broken bounds as its error ("infeasible <when>: ..."), and their
// summed violation among its final metrics (kViolationMetric).
void mark_infeasible(TrialResult& result, const ConstraintCheck& check, std::string_view when);

// After each epoch: go on, stop for good (early stopping, the time budget), or pause: stop now
// but keep the training state, because the trial will continue later (a stop signal).
enum class Decision { kContinue, kStop, kPause };
template <>
struct EnumNames<Decision> {
  static constexpr std::array<EnumName<Decision>, 3> table{
      {{Decision::kContinue, "continue"}, {Decision::kStop, "stop"}, {Decision::kPause, "pause"}}};
};
// What a trial hears after each epoch: the decision, and how long its next epoch may take, from
// its start to its report, before the trial ends pruned without that report (ASHA's report
// deadline, search_spaces/pruners.h; 0: as long as it needs). A bare Decision allows any time.
struct EpochVerdict {
  EpochVerdict(Decision decision, double next_report_allowance = 0)  // NOLINT: implicit on purpose
      : decision(decision), next_report_allowance(next_report_allowance) {}
  bool operator==(Decision other) const { return decision == other; }

  Decision decision;
  double next_report_allowance;
};
using EpochCallback = std::function<EpochVerdict(const EpochMetrics&)>;

// Thrown by a runner whose epoch ran past its report allowance (a gang's leader, which keeps the
// clock): run_trial() ends the trial pruned with what it last reported, not failed.
class ReportOverdue : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The reason to stop an epoch that has run `epoch_seconds` against its `allowance` (0: none), or
// nothing while it is within it.
std::optional<std::string> report_overdue(int epoch, double epoch_seconds, double allowance);

// Trains (or evaluates) one trial. Implementations may throw; callers go through run_trial().
// They hold each epoch to its report allowance (the assignment's for the first, then each
// verdict's) and throw ReportOverdue once an epoch overruns it.
class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  virtual TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) = 0;
  // What the trial costs before it trains (cost_metric_names(), as `cost_request` asks); none by
  // default (a known benchmark function costs nothing).
  virtual std::map<std::string, double> measure_costs(const TrialAssignment& assignment) {
    return {};
  }
};

// The trial boundary: measures the trial's costs (unless the assignment carries them) and ends it
// `infeasible` without training when they break a constraint; otherwise runs it, with the costs
// among every epoch's and the final metrics. Turns any exception into a failed result, so one bad
// config never takes a worker down, except ReportOverdue, which ends it pruned. It also fails the
// trial at the first epoch past its time limit, unless `enforce_time_limit` is false because
// someone else keeps the clock (a gang's leader, for all its ranks).
TrialResult run_trial(TrialRunner& runner, const TrialAssignment& assignment,
                      const EpochCallback& on_epoch, bool enforce_time_limit = true);

// The failure message when a trial that started at `start` has run past its time limit during
// or at the end of `epoch`; nothing while it is within the limit (or has none).
std::optional<std::string> time_limit_exceeded(const TrialAssignment& assignment,
                                               std::chrono::steady_clock::time_point start,
                                               int epoch);

// Names of the metrics the LibTorch trainer records per epoch, usable as a sweep objective.
const std::vector<std::string>& epoch_metric_names();

void to_json(nlohmann::json& out, const StateRef& state);
void from_json(const nlohmann::json& in, StateRef& state);
void to_json(nlohmann::json& out, const TrialAssignment& assignment);
void from_json(const nlohmann::json& in, TrialAssignment& assignment);
void to_json(nlohmann::json& out, const EpochMetrics& epoch);
void from_json(const nlohmann::json& in, EpochMetrics& epoch);
void to_json(nlohmann::json& out, const TrialResult& result);
void from_json(const nlohmann::json& in, TrialResult& result);

}  // namespace fersweep
