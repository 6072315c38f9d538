#include "benchmarks/benchmark_runner.h"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "common/random.h"

namespace fersweep::benchmarks {
namespace {

using Clock = std::chrono::steady_clock;

double param_or_fallback(const BenchmarkFunction& function, const nlohmann::json& params,
                         const std::string& name) {
  if (params.contains(name)) return params.at(name).get<double>();
  for (const auto& d : function.parameters) {
    if (d.name == name) return d.fallback;
  }
  throw std::logic_error("benchmark " + function.name + " has no parameter " + name);
}

// The noise-free metrics of `function` at `params` after `epoch` epochs.
std::map<std::string, double> evaluate(const BenchmarkFunction& function,
                                       const nlohmann::json& params, int epoch) {
  auto p = [&](const std::string& name) { return param_or_fallback(function, params, name); };
  if (function.name == "branin") return {{"value", branin(p("x1"), p("x2"))}};
  if (function.name == "hartmann6") {
    return {{"value", hartmann6({p("x1"), p("x2"), p("x3"), p("x4"), p("x5"), p("x6")})}};
  }
  const CurvePoint c = learning_curve(p("lr"), p("dropout"), p("batch_size"), epoch);
  return {{"train_loss", c.train_loss},
          {"train_accuracy", c.train_accuracy},
          {"val_loss", c.val_loss},
          {"val_accuracy", c.val_accuracy}};
}

// The spec's injected fault for this trial, if any (reliability tests).
void inject_fault(const BenchmarkSettings& settings, const TrialAssignment& assignment,
                  EpochMetrics& epoch) {
  const auto fault = settings.faults.find(assignment.number);
  if (fault == settings.faults.end()) return;
  if (fault->second == "throw") {
    throw std::runtime_error(fmt::format("injected fault in trial #{}", assignment.number));
  }
  if (fault->second == "nan") {
    for (auto& [name, value] : epoch.values) value = NAN;
  } else {  // sleep: past the trial's time limit
    std::this_thread::sleep_for(std::chrono::duration<double>(assignment.time_limit_seconds + 1));
  }
}

class BenchmarkRunner final : public TrialRunner {
 public:
  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override {
    const auto start = Clock::now();
    if (assignment.benchmark.is_null()) {
      throw std::invalid_argument("benchmark runner: the assignment names no benchmark");
    }
    const auto settings = assignment.benchmark.get<BenchmarkSettings>();
    const BenchmarkFunction* function = find_benchmark(settings.function);
    if (!function) throw std::invalid_argument("unknown benchmark " + settings.function);
    for (const auto& [name, value] : assignment.params.items()) {
      if (auto problem = parameter_problem(*function, name, value); !problem.empty()) {
        throw std::invalid_argument("parameters." + name + ": " + problem);
      }
    }
    Rng rng(mix_seed(assignment.seed, 0xBE7C));
    TrialResult result;
    result.trial_id = assignment.trial_id;
    EpochMetrics epoch;
    for (int e = 1; e <= assignment.epochs; ++e) {
      const auto epoch_start = Clock::now();
      if (settings.seconds_per_epoch > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(settings.seconds_per_epoch));
      }
      epoch.trial_id = assignment.trial_id;
      epoch.epoch = e;
      epoch.values = evaluate(*function, assignment.params, e);
      if (settings.noise_sd > 0) {
        for (auto& [name, value] : epoch.values) value += settings.noise_sd * normal(rng);
      }
      // A NaN fault is caught at the trial boundary, run_trial(), as a diverged network's is.
      if (e == assignment.epochs) inject_fault(settings, assignment, epoch);
      epoch.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
      result.epochs_completed = e;
      if (on_epoch(epoch) == Decision::kStop) {
        result.status = TrialStatus::kPruned;
        break;
      }
    }
    result.final_metrics = epoch.values;
    result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  }
};

}  // namespace

std::unique_ptr<TrialRunner> make_benchmark_runner() {
  return std::make_unique<BenchmarkRunner>();
}

}  // namespace fersweep::benchmarks
