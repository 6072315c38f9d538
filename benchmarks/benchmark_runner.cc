#include "benchmarks/benchmark_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "common/json_reader.h"
#include "common/random.h"
#include "common/state_files.h"

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

// The noise-free metrics of `function` at `params` after `epoch` of the trial's `epochs`.
std::map<std::string, double> evaluate(const BenchmarkFunction& function,
                                       const BenchmarkSettings& settings,
                                       const nlohmann::json& params, int epoch, int epochs) {
  auto p = [&](const std::string& name) { return param_or_fallback(function, params, name); };
  if (function.name == "branin") return {{"value", branin(p("x1"), p("x2"))}};
  if (function.name == "hartmann6" || function.name == "hartmann6_fidelity") {
    const double fidelity = function.name == "hartmann6"
                                ? 1.0
                                : std::min(1.0, static_cast<double>(epoch) / std::max(1, epochs));
    return {{"value",
             hartmann6_fidelity({p("x1"), p("x2"), p("x3"), p("x4"), p("x5"), p("x6")}, fidelity)}};
  }
  if (function.metrics.front() == "f1") {  // the multi-objective problems
    std::vector<double> x;
    for (const auto& d : function.parameters) x.push_back(p(d.name));
    std::map<std::string, double> values;
    if (function.name == "dtlz2") {
      const auto f = dtlz2(x);
      values = {{"f1", f[0]}, {"f2", f[1]}, {"f3", f[2]}};
    } else {
      const auto f = function.name == "zdt1" ? zdt1(x) : zdt2(x);
      values = {{"f1", f[0]}, {"f2", f[1]}};
    }
    return values;
  }
  const bool sized = function.name == "learning_curve_size";
  const double width = sized ? p("width") : 1.0;
  const CurvePoint c =
      learning_curve(p("lr"), p("dropout"), p("batch_size"), epoch, width, settings.width_speed);
  std::map<std::string, double> values = {{"train_loss", c.train_loss},
                                          {"train_accuracy", c.train_accuracy},
                                          {"val_loss", c.val_loss},
                                          {"val_accuracy", c.val_accuracy}};
  if (sized) values["mparams"] = curve_network_mparams(width);
  return values;
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

// A benchmark trial's training state: its epoch, its noise stream and its newest metrics, as
// JSON, so that it continues after a crash as a network does (and tests of that run in seconds).
struct BenchmarkProgress {
  int epoch = 0;
  Rng rng;
  std::map<std::string, double> values;
  double skill = kChanceSkill;  // lr_schedule's model, noise-free
};

// The epoch's noise-free metrics; lr_schedule's depend on the path so far (`progress.skill`).
std::map<std::string, double> next_epoch(const BenchmarkFunction& function,
                                         const BenchmarkSettings& settings,
                                         const nlohmann::json& params, int epoch, int epochs,
                                         BenchmarkProgress& progress) {
  if (function.name != "lr_schedule") return evaluate(function, settings, params, epoch, epochs);
  const double dropout = param_or_fallback(function, params, "dropout");
  progress.skill =
      lr_schedule_step(param_or_fallback(function, params, "lr"), dropout, progress.skill);
  const CurvePoint c = lr_schedule_point(progress.skill, dropout);
  return {{"train_loss", c.train_loss},
          {"train_accuracy", c.train_accuracy},
          {"val_loss", c.val_loss},
          {"val_accuracy", c.val_accuracy}};
}

StateRef save_progress(TrialStateFiles& states, const BenchmarkProgress& progress) {
  if (!states.enabled()) return {};
  std::ostringstream rng;
  rng << progress.rng;
  const nlohmann::json state = {{"epoch", progress.epoch},
                                {"rng", rng.str()},
                                {"values", progress.values},
                                {"skill", progress.skill}};
  std::ofstream out(states.temporary_path(progress.epoch), std::ios::binary);
  out << state.dump();
  out.close();
  if (!out)
    throw std::runtime_error("training state: cannot write " +
                             states.temporary_path(progress.epoch));
  return states.commit(progress.epoch);
}

BenchmarkProgress load_progress(const StateRef& state) {
  const std::optional<std::string> text = file_text(state.path);
  if (!text) throw std::runtime_error("training state " + state.path + ": cannot read it");
  const nlohmann::json saved = parse_json(*text, state.path);
  BenchmarkProgress progress;
  saved.at("epoch").get_to(progress.epoch);
  std::istringstream rng(saved.at("rng").get<std::string>());
  rng >> progress.rng;
  saved.at("values").get_to(progress.values);
  progress.skill = saved.value("skill", kChanceSkill);
  return progress;
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
    TrialStateFiles states(assignment);
    BenchmarkProgress progress{0, Rng(mix_seed(assignment.seed, 0xBE7C)), {}, kChanceSkill};
    if (!assignment.resume.empty()) progress = load_progress(assignment.resume);
    TrialResult result;
    result.trial_id = assignment.trial_id;
    double allowance = assignment.report_allowance_seconds;
    for (int e = progress.epoch + 1; e <= assignment.epochs; ++e) {
      const auto epoch_start = Clock::now();
      if (settings.seconds_per_epoch > 0) {
        // An epoch longer than its report allowance is cut where the allowance runs out.
        const double allowed = allowance > 0 ? allowance : INFINITY;
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(settings.seconds_per_epoch, allowed)));
        if (auto overdue = report_overdue(e, settings.seconds_per_epoch, allowance)) {
          throw ReportOverdue(*overdue);
        }
      }
      EpochMetrics epoch{
          assignment.trial_id,
          e,
          0,
          next_epoch(*function, settings, assignment.params, e, assignment.epochs, progress),
          {}};
      if (settings.noise_sd > 0) {
        // Seed noise blurs what training measures, not the size of the network.
        for (auto& [name, value] : epoch.values) {
          if (name != "mparams") value += settings.noise_sd * normal(progress.rng);
        }
      }
      // A NaN fault is caught at the trial boundary, run_trial(), as a diverged network's is.
      if (e == assignment.epochs) inject_fault(settings, assignment, epoch);
      progress.epoch = e;
      progress.values = epoch.values;
      epoch.state = save_progress(states, progress);
      epoch.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
      const EpochVerdict verdict = on_epoch(epoch);
      states.acknowledged(e);
      allowance = verdict.next_report_allowance;
      if (verdict.decision == Decision::kContinue) continue;
      result.status =
          verdict.decision == Decision::kPause ? TrialStatus::kPaused : TrialStatus::kPruned;
      break;
    }
    result.epochs_completed = progress.epoch;
    result.final_metrics = progress.values;
    result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  }
};

}  // namespace

std::unique_ptr<TrialRunner> make_benchmark_runner() {
  return std::make_unique<BenchmarkRunner>();
}

}  // namespace fersweep::benchmarks
