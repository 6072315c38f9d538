#pragma once
// Benchmark objectives: closed-form functions with known optima, evaluated instead of training a
// network. A spec selects one with "benchmark": {"function": NAME, ...}; its parameters and
// reported metrics then replace the trainer's.
#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep::benchmarks {

struct ParameterDomain {
  std::string name;
  double min = 0, max = 0;  // closed interval of accepted values
  bool integer = false;
  double fallback = 0;  // used when a spec leaves the parameter out
};

struct BenchmarkFunction {
  std::string name;
  std::string description;
  std::vector<ParameterDomain> parameters;
  std::vector<std::string> metrics;  // reported after every epoch
  std::optional<double> minimum;     // of metrics.front(), when known (for regret)
};

const std::vector<BenchmarkFunction>& benchmark_functions();
// nullptr when unknown.
const BenchmarkFunction* find_benchmark(const std::string& name);
// Empty when `value` is acceptable for parameter `name` of `function`, else what is wrong.
std::string parameter_problem(const BenchmarkFunction& function, const std::string& name,
                              const nlohmann::json& value);

// Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points.
double branin(double x1, double x2);
// Hartmann 6-D on [0, 1]^6; minimum -3.32237.
double hartmann6(const std::array<double, 6>& x);
// Its multi-fidelity form (Kandasamy et al. 2017, BOCA): every peak's weight alpha_i lowered by
// 0.1 (1 - fidelity), fidelity in [0, 1]; at 1 it is hartmann6. Low fidelities keep the peaks'
// order but blur their differences: cheap evidence that ranks as the full one does, the opposite
// of learning_curve, whose curves cross.
double hartmann6_fidelity(const std::array<double, 6>& x, double fidelity);

// Multi-objective test problems on the unit cube (Zitzler, Deb & Thiele 2000; Deb et al. 2002),
// minimised. ZDT1 and ZDT2 (30-D): f1 = x1, fronts where x2..x30 = 0, f2 = 1 - sqrt(f1) and
// 1 - f1^2. DTLZ2 (3 objectives, 12-D): the front is the unit sphere's positive octant, where
// x3..x12 = 0.5.
inline constexpr int kZdtDims = 30;
inline constexpr int kDtlz2Dims = 12;
std::array<double, 2> zdt1(std::span<const double> x);
std::array<double, 2> zdt2(std::span<const double> x);
std::array<double, 3> dtlz2(std::span<const double> x);

// A synthetic training run: validation accuracy after `epoch` epochs of a 7-class model as a
// saturating curve whose ceiling and speed depend on lr, dropout and batch_size. High learning
// rates learn fast and plateau low, low ones learn slowly: curves cross, so stopping early is a
// real decision.
struct CurvePoint {
  double train_loss, train_accuracy, val_loss, val_accuracy;
};
// `width` scales the network (1: the reference one): a wider one plateaus higher, and learns
// width^width_speed times as fast per epoch: 0, as fast; negative, more slowly (the accuracy-size
// trade-off only shows once the curves have run, which early stopping must survive); positive,
// faster (larger models are more sample-efficient: Kaplan et al. 2020).
CurvePoint learning_curve(double lr, double dropout, double batch_size, int epoch, double width = 1,
                          double width_speed = 0);
// The size of that network in millions of parameters: 1.33 (the seed's modified VGG) x width^2.
double curve_network_mparams(double width);

// A training run whose best learning rate changes as it goes (a schedule-dependent optimum): each
// epoch moves the model's skill (its validation accuracy) toward a ceiling that high rates keep
// low, at a speed that high rates make fast. From chance, the best fixed rate reaches about 0.75
// in 16 epochs; a decaying schedule does better, so only a method that changes the rate mid-run
// (Population Based Training) can reach the optimum. Its state is the skill, kept in the trial's
// training state.
double lr_schedule_step(double lr, double dropout, double skill);
CurvePoint lr_schedule_point(double skill, double dropout);
inline constexpr double kChanceSkill = 1.0 / 7;

// The spec's "benchmark" object, validated: {"function", "noise_sd", "seconds_per_epoch"}.
struct BenchmarkSettings {
  std::string function;
  double noise_sd = 0;           // Gaussian noise added to every reported metric
  double seconds_per_epoch = 0;  // sleep per epoch, to emulate training time
  double width_speed = 0;        // learning_curve_size: learning speed grows as width^width_speed
  // Fault injection for reliability tests: trial number -> "throw" | "nan" | "sleep", injected
  // in the trial's last epoch.
  std::map<int, std::string> faults;

  static BenchmarkSettings from_spec(const nlohmann::json& object, const std::string& path);
};
void to_json(nlohmann::json& out, const BenchmarkSettings& settings);
void from_json(const nlohmann::json& in, BenchmarkSettings& settings);

}  // namespace fersweep::benchmarks
