#pragma once
// Sweep spec files: JSON documents declaring a search space, a search method, an objective,
// early stopping, a budget and resources. The language is documented in docs/SPEC.md and
// described by search_spaces/spec.schema.json.
//
// Parsing is strict: unknown keys, wrong types, impossible ranges and inconsistent conditions
// throw InputError naming the JSON path (and, from load_spec_file, the file).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"

namespace fersweep::search {

using Json = nlohmann::json;

enum class Distribution { kValue, kValues, kUniform, kLogUniform, kIntUniform, kQUniform };

// "when": {"arch": "vgg_custom"} or {"arch": ["vgg_custom", "vgg16"]}: the parameter is only
// sampled when the parent parameter is active and took one of the allowed values.
struct Condition {
  std::string parent;
  std::vector<Json> allowed;
};

struct Parameter {
  std::string name;
  Distribution distribution = Distribution::kValue;
  std::vector<Json> values;  // kValue: exactly one; kValues: the choices
  double min = 0, max = 0, q = 0;
  std::vector<Condition> when;  // all must hold
  // PBT may change it mid-trial (explore); everything else stays fixed for a member.
  bool mutable_ = false;

  bool is_discrete() const {
    return distribution == Distribution::kValue || distribution == Distribution::kValues;
  }
  bool is_conditional() const { return !when.empty(); }
};

enum class Method { kGrid, kRandom, kSobol, kTpe, kPbt, kNsga2 };

struct Objective {
  std::string metric = "val_accuracy";
  bool maximize = true;
};

struct Budget {
  std::optional<int> trials;           // absent: the whole grid, or until the wall time
  std::optional<double> wall_seconds;  // no new trial after it; running ones stop at next epoch
};

// Tree-structured Parzen Estimator settings ("tpe": {...}); defaults follow Optuna's except
// `bandwidth` (docs/BENCHMARKS.md, "Search quality" and "Several objectives").
struct TpeOptions {
  int startup_trials = 10;    // random configs before the model takes over
  int candidates = 24;        // draws from l(x) scored by l(x)/g(x) per suggestion
  double gamma = 0.1;         // fraction of observations that count as good (at most 25)
  bool multivariate = true;   // one joint kernel over the unconditional parameters
  bool constant_liar = true;  // running trials count as bad, so parallel asks spread out
  double prior_weight = 1.0;
  // Multivariate kernels' width, before the usual n^(-1/(d+4)) shrink. A number: that fraction
  // of each parameter's range (Optuna's is 0.2; half of it found better optima on every
  // single-objective function tried, at 50 and 150 trials). kScottBandwidth (the spec's
  // "scott"): each parameter's weighted standard deviation over the estimator's observations,
  // so the kernels are as wide as the good group is spread, parameter by parameter; a fixed
  // width keeps several objectives' search near the part of the front found first.
  // Unset: "scott" with several objectives, 0.1 with one (bandwidth_for).
  std::optional<double> bandwidth;
  static constexpr double kScottBandwidth = 0;
  static constexpr double kSingleObjectiveBandwidth = 0.1;
  double bandwidth_for(size_t objectives) const {
    return bandwidth.value_or(objectives > 1 ? kScottBandwidth : kSingleObjectiveBandwidth);
  }
  // Model every epoch's result as evidence at that budget (tpe.h), not final results only.
  bool multi_fidelity = false;
};

// NSGA-II ("method": "nsga2", "nsga2": {...}; Deb et al. 2002), steady-state: every finished
// trial joins the archive, the best `population` of it by non-dominated rank and crowding
// distance are the parents, and each new config is a child of two tournament winners.
struct Nsga2Options {
  int population = 20;
  double crossover_probability = 0.9;  // else the child copies its first parent
  // Per parameter; unset: 1 / the number of parameters.
  std::optional<double> mutation_probability;
  double crossover_eta = 15;  // SBX distribution index: larger keeps children near parents
  double mutation_eta = 20;   // polynomial mutation's index, likewise
};

// Population Based Training ("method": "pbt", "pbt": {...}; docs/SPEC.md). The population starts
// as random configs; every `interval` epochs the members pause together, the bottom `quantile`
// load a top member's training state (exploit) and perturb its mutable parameters (explore).
struct PbtOptions {
  int population = 8;
  int interval = 2;                    // "perturbation_interval", in epochs
  double quantile = 0.25;              // bottom fraction replaced, top fraction copied
  double resample_probability = 0.25;  // explore: a fresh draw instead of x0.8 or x1.2
};

// "warm_start": an earlier sweep whose finished, pruned and infeasible trials seed the sampler as
// prior evidence (docs/SPEC.md, "Warm starts"). The database path is taken from the directory
// `fersweep run` starts in.
struct WarmStart {
  std::string db;
  std::optional<int64_t> sweep_id;  // "sweep": an id, or
  std::string sweep_name;           // a name: the newest sweep of that name
};

enum class StoppingRule { kNone, kMedian, kAsha, kHyperband };
// What ASHA's rungs count: epochs, or seconds of training (each epoch's wall time, summed), so
// that networks of very different cost per epoch are compared at equal cost.
enum class StoppingResource { kEpochs, kSeconds };

struct EarlyStopping {
  StoppingRule rule = StoppingRule::kNone;
  int min_epochs = 1;      // median: no stop before; asha/hyperband: the first rung
  int eta = 3;             // asha/hyperband: reduction factor
  int startup_trials = 5;  // median: finished trials needed before it stops anything
  bool promotion = false;  // asha/hyperband "mode": "promotion": pause at rungs, promote later
  // asha in promotion mode, "ladder": "measured": the first `probe_trials` trials measure which
  // rung to judge at and how few to keep (search_spaces/measured_ladder.h).
  bool measured_ladder = false;
  int probe_trials = 10;
  StoppingResource resource = StoppingResource::kEpochs;  // asha
  double min_seconds = 0;  // asha with resource seconds: the first rung
  // asha with resource seconds: a trial silent past a rung is stopped when it reaches the next
  // one (search_spaces/pruners.h, AshaPruner::report_deadline).
  bool report_deadline = false;
};

// What a trial keeps on disk (spec "checkpoints"): its whole training state after every epoch (to
// continue from) and its best epoch's model, only the best model, or nothing.
enum class CheckpointPolicy { kEveryEpoch, kBest, kNone };

struct SweepSpec {
  std::string name;
  Method method = Method::kRandom;
  // The objectives in the spec's order (one, or several for a Pareto search); `objective` is the
  // first, the one single-objective parts (checkpoints, ranking by default) follow.
  std::vector<Objective> objectives;
  Objective objective;
  // "constraints": bounds on any metric (common/constraints.h); "costs": what trials measure.
  std::vector<Constraint> constraints;
  CostRequest costs;
  Budget budget;
  int epochs = 5;
  uint64_t seed = 0;
  DataConfig data;
  int threads_per_worker = 0;  // 0: cores per node / training ranks per node
  double memory_gb = 0;        // per training rank; 0: node memory / training ranks per node
  int gpus_per_trial = 1;      // ranks training one trial together (a gang; docs/PARALLEL.md)
  int trials_per_gpu = 1;      // training ranks that may share one GPU (docs/GPU.md)
  Precision precision = Precision::kFp32;  // bf16: forward passes under bfloat16 autocast
  double bucket_mb = 25;                   // gradient bucket size of a gang
  // "failures": a failed trial is run again (same config and seed) up to `retries` times; a trial
  // running longer than `trial_time_limit` seconds (0: no limit) fails at its next step.
  int retries = 0;
  double trial_time_limit = 0;
  // A worker silent this many seconds while running a trial is lost; its trial runs again. 0: off.
  double progress_deadline = 0;
  CheckpointPolicy checkpoints = CheckpointPolicy::kEveryEpoch;
  // Not part of the JSON: where `fersweep run` keeps each trial's best model (empty: nowhere) and
  // its training state.
  std::string checkpoint_dir;
  std::string state_dir;
  TpeOptions tpe;
  PbtOptions pbt;
  Nsga2Options nsga2;
  EarlyStopping early_stopping;
  // "initial_configs": evaluated first, in order, and counted in the budget; a partial config is
  // completed by sampling (search_spaces/known_configs.h).
  std::vector<Json> initial_configs;
  std::optional<WarmStart> warm_start;
  Json benchmark;                     // null: train networks; else BenchmarkSettings as JSON
  std::vector<Parameter> parameters;  // by name, except that parents precede their conditionals
  Json document;                      // the spec as written, stored with the sweep
};

SweepSpec parse_spec(const Json& document);
// Reads and parses a spec file; errors start with the file name (and line:column for JSON syntax).
SweepSpec load_spec_file(const std::string& path);

std::string to_string(Method method);
// "name:maximize,name:minimize": how a multi-objective sweep stores its objectives.
std::string describe_objectives(const std::vector<Objective>& objectives);
std::string to_string(StoppingRule rule);

}  // namespace fersweep::search

namespace fersweep {
template <>
struct EnumNames<search::CheckpointPolicy> {
  static constexpr std::array<EnumName<search::CheckpointPolicy>, 3> table{
      {{search::CheckpointPolicy::kEveryEpoch, "every_epoch"},
       {search::CheckpointPolicy::kBest, "best"},
       {search::CheckpointPolicy::kNone, "none"}}};
};
}  // namespace fersweep
