#include "benchmarks/functions.h"

#include <charconv>

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep::benchmarks {

const std::vector<BenchmarkFunction>& benchmark_functions() {
  static const std::vector<BenchmarkFunction> all = [] {
    std::vector<ParameterDomain> unit_cube;
    for (int i = 1; i <= 6; ++i) unit_cube.push_back({fmt::format("x{}", i), 0, 1, false, 0.5});
    auto cube = [](int dims) {
      std::vector<ParameterDomain> domains;
      for (int i = 1; i <= dims; ++i) domains.push_back({fmt::format("x{}", i), 0, 1, false, 0.5});
      return domains;
    };
    return std::vector<BenchmarkFunction>{
        {"branin",
         "Branin-Hoo, 2-D",
         {{"x1", -5, 10, false, 2.5}, {"x2", 0, 15, false, 7.5}},
         {"value"},
         0.397887357729738},
        {"hartmann6", "Hartmann, 6-D", unit_cube, {"value"}, -3.32236801141551},
        {"hartmann6_fidelity",
         "Hartmann, 6-D, with the epoch as its fidelity (epoch / epochs)",
         unit_cube,
         {"value"},
         -3.32236801141551},
        {"learning_curve",
         "synthetic 7-class training run",
         {{"lr", 1e-6, 1.0, false, 1e-3},
          {"dropout", 0, 0.95, false, 0.5},
          {"batch_size", 1, 65536, true, 64}},
         {"val_accuracy", "val_loss", "train_accuracy", "train_loss"},
         std::nullopt},
        {"learning_curve_size",
         "the learning curve with a network width: accuracy against size, two objectives",
         {{"lr", 1e-6, 1.0, false, 1e-3},
          {"dropout", 0, 0.95, false, 0.5},
          {"batch_size", 1, 65536, true, 64},
          {"width", 0.125, 8, false, 1}},
         {"val_accuracy", "mparams", "val_loss", "train_accuracy", "train_loss"},
         std::nullopt},
        {"zdt1",
         "ZDT1, 30-D, two objectives, convex front",
         cube(kZdtDims),
         {"f1", "f2"},
         std::nullopt},
        {"zdt2",
         "ZDT2, 30-D, two objectives, concave front",
         cube(kZdtDims),
         {"f1", "f2"},
         std::nullopt},
        {"dtlz2",
         "DTLZ2, 12-D, three objectives, spherical front",
         cube(kDtlz2Dims),
         {"f1", "f2", "f3"},
         std::nullopt},
        {"lr_schedule",
         "synthetic training run whose best learning rate decays",
         {{"lr", 1e-6, 1.0, false, 1e-3}, {"dropout", 0, 0.95, false, 0.3}},
         {"val_accuracy", "val_loss", "train_accuracy", "train_loss"},
         std::nullopt},
    };
  }();
  return all;
}

const BenchmarkFunction* find_benchmark(const std::string& name) {
  for (const auto& f : benchmark_functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string parameter_problem(const BenchmarkFunction& function, const std::string& name,
                              const nlohmann::json& value) {
  auto domain = std::find_if(function.parameters.begin(), function.parameters.end(),
                             [&](const ParameterDomain& d) { return d.name == name; });
  if (domain == function.parameters.end()) {
    std::vector<std::string> names;
    for (const auto& d : function.parameters) names.push_back(d.name);
    return fmt::format("not a parameter of benchmark {} (known: {})", function.name,
                       fmt::join(names, ", "));
  }
  if (domain->integer ? !value.is_number_integer() : !value.is_number()) {
    return fmt::format("expected {}, got {}", domain->integer ? "an integer" : "a number",
                       json_type_name(value));
  }
  const double x = value.get<double>();
  if (x < domain->min || x > domain->max) {
    return fmt::format("must be in [{}, {}], got {}", domain->min, domain->max, x);
  }
  return "";
}

double branin(double x1, double x2) {
  using std::numbers::pi;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  const double inner = x2 - b * x1 * x1 + c * x1 - 6;
  return inner * inner + 10 * (1 - t) * std::cos(x1) + 10;
}

double hartmann6(const std::array<double, 6>& x) {
  return hartmann6_fidelity(x, 1.0);
}

double hartmann6_fidelity(const std::array<double, 6>& x, double fidelity) {
  static constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                      {0.05, 10, 17, 0.1, 8, 14},
                                      {3, 3.5, 1.7, 10, 17, 8},
                                      {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double kP[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                      {2329, 4135, 8307, 3736, 1004, 9991},
                                      {2348, 1451, 3522, 2883, 3047, 6650},
                                      {4047, 8828, 8732, 5743, 1091, 381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double exponent = 0;
    for (int j = 0; j < 6; ++j) {
      const double d = x[j] - kP[i][j] * 1e-4;
      exponent += kA[i][j] * d * d;
    }
    sum += (kAlpha[i] - 0.1 * (1 - fidelity)) * std::exp(-exponent);
  }
  return -sum;
}

namespace {
// ZDT's distance function g: 1 on the front (x2..xn = 0), 10 at worst.
double zdt_g(std::span<const double> x) {
  double sum = 0;
  for (size_t i = 1; i < x.size(); ++i) sum += x[i];
  return 1 + 9 * sum / static_cast<double>(x.size() - 1);
}
}  // namespace

std::array<double, 2> zdt1(std::span<const double> x) {
  const double g = zdt_g(x);
  return {x[0], g * (1 - std::sqrt(x[0] / g))};
}

std::array<double, 2> zdt2(std::span<const double> x) {
  const double g = zdt_g(x);
  return {x[0], g * (1 - (x[0] / g) * (x[0] / g))};
}

std::array<double, 3> dtlz2(std::span<const double> x) {
  double g = 0;
  for (size_t i = 2; i < x.size(); ++i) g += (x[i] - 0.5) * (x[i] - 0.5);
  const double a = x[0] * std::numbers::pi / 2, b = x[1] * std::numbers::pi / 2;
  return {(1 + g) * std::cos(a) * std::cos(b), (1 + g) * std::cos(a) * std::sin(b),
          (1 + g) * std::sin(a)};
}

CurvePoint learning_curve(double lr, double dropout, double batch_size, int epoch, double width,
                          double width_speed) {
  constexpr double kChance = 1.0 / 7;
  const double u = std::log10(lr) + 3;  // 0 at lr = 1e-3, the sweet spot
  const double batch_octaves = std::log2(batch_size / 64);
  const double width_octaves = std::log2(width);
  // Width pays less with every doubling, and only up to the reference network's ceiling less
  // what the other knobs cost.
  const double capacity = 0.06 * width_octaves - 0.012 * width_octaves * width_octaves;
  const double ceiling = std::clamp(0.92 - 0.08 * u * u - 0.35 * (dropout - 0.3) * (dropout - 0.3) -
                                        0.015 * std::abs(batch_octaves) + capacity,
                                    kChance, 0.99);
  const double speed = 0.25 * std::pow(10.0, 0.5 * u) * std::pow(2.0, -0.3 * batch_octaves) *
                       std::pow(width, width_speed);
  const double progress = 1 - std::exp(-speed * epoch);
  const double val_accuracy = kChance + (ceiling - kChance) * progress;
  // Training accuracy overtakes validation as dropout weakens: the overfitting gap.
  const double gap = 0.08 * (1 - dropout) * progress;
  const double train_accuracy = std::min(0.999, val_accuracy + gap);
  return {-std::log(train_accuracy), train_accuracy, -std::log(val_accuracy), val_accuracy};
}

double curve_network_mparams(double width) {
  return 1.328102 * width * width;
}

double lr_schedule_step(double lr, double dropout, double skill) {
  const double v = std::log10(lr);
  const double speed = std::min(0.6, 0.6 * std::pow(10.0, 0.7 * (v + 1)));
  const double calm = std::max(0.0, (v + 4) / 3);  // 0 at lr 1e-4 and below
  const double ceiling = std::clamp(
      0.97 - 0.35 * calm * calm - 0.3 * (dropout - 0.3) * (dropout - 0.3), kChanceSkill, 0.99);
  return skill + speed * (ceiling - skill);
}

CurvePoint lr_schedule_point(double skill, double dropout) {
  const double train_accuracy = std::min(0.999, skill + 0.05 * (1 - dropout));
  return {-std::log(train_accuracy), train_accuracy, -std::log(skill), skill};
}

BenchmarkSettings BenchmarkSettings::from_spec(const nlohmann::json& object,
                                               const std::string& path) {
  ObjectReader reader(object, path);
  BenchmarkSettings s;
  s.function = reader.string("function");
  if (!find_benchmark(s.function)) {
    std::vector<std::string> names;
    for (const auto& f : benchmark_functions()) names.push_back(f.name);
    throw InputError(fmt::format("{}: unknown benchmark function \"{}\" (choose from {})",
                                 reader.path_of("function"), s.function, fmt::join(names, ", ")));
  }
  s.noise_sd = reader.number("noise_sd", 0.0);
  if (!(s.noise_sd >= 0)) {
    throw InputError(
        fmt::format("{}: must be >= 0, got {}", reader.path_of("noise_sd"), s.noise_sd));
  }
  s.seconds_per_epoch = reader.number("seconds_per_epoch", 0.0);
  s.width_speed = reader.number("width_speed", 0.0);
  if (!(s.width_speed >= -2 && s.width_speed <= 2)) {
    throw InputError(fmt::format("{}: must be in [-2, 2], got {}", reader.path_of("width_speed"),
                                 s.width_speed));
  }
  if (!(s.seconds_per_epoch >= 0 && s.seconds_per_epoch <= 3600)) {
    throw InputError(fmt::format("{}: must be in [0, 3600], got {}",
                                 reader.path_of("seconds_per_epoch"), s.seconds_per_epoch));
  }
  if (const nlohmann::json* faults = reader.find("faults")) {
    const std::string at = reader.path_of("faults");
    if (!faults->is_object()) throw InputError(at + ": expected an object");
    for (const auto& [number, kind] : faults->items()) {
      int trial = -1;
      const auto [end, error] =
          std::from_chars(number.data(), number.data() + number.size(), trial);
      if (error != std::errc() || end != number.data() + number.size() || trial < 0) {
        throw InputError(fmt::format("{}.{}: expected a trial number", at, number));
      }
      if (!kind.is_string() || (kind != "throw" && kind != "nan" && kind != "sleep")) {
        throw InputError(
            fmt::format("{}.{}: expected \"throw\", \"nan\" or \"sleep\"", at, number));
      }
      s.faults[trial] = kind.get<std::string>();
    }
  }
  reader.reject_unknown_keys();
  return s;
}

void to_json(nlohmann::json& out, const BenchmarkSettings& s) {
  nlohmann::json faults = nlohmann::json::object();
  for (const auto& [number, kind] : s.faults) faults[std::to_string(number)] = kind;
  out = {{"function", s.function},
         {"noise_sd", s.noise_sd},
         {"seconds_per_epoch", s.seconds_per_epoch},
         {"width_speed", s.width_speed},
         {"faults", faults}};
}

void from_json(const nlohmann::json& in, BenchmarkSettings& s) {
  in.at("function").get_to(s.function);
  in.at("noise_sd").get_to(s.noise_sd);
  in.at("seconds_per_epoch").get_to(s.seconds_per_epoch);
  s.width_speed = in.value("width_speed", 0.0);
  s.faults.clear();
  const nlohmann::json faults = in.value("faults", nlohmann::json::object());
  for (const auto& [number, kind] : faults.items()) {
    s.faults[std::stoi(number)] = kind.get<std::string>();
  }
}

}  // namespace fersweep::benchmarks
