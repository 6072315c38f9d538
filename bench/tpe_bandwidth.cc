// How the TPE kernel width (spec tpe.bandwidth) trades exploration for refinement: median regret
// over seeds of the multivariate TPE sampler, driven directly (no coordinator), on Branin,
// Hartmann6 and a 6-D Styblinski-Tang (on [-5, 5], mapped from Hartmann6's unit cube).
//
//   build/bench/tpe_bandwidth [seeds=100] [trials=50] [bandwidth ...]   (default 0.2 0.1 0.06)
//
// A bandwidth is a fraction of each parameter's range in (0, 1], or "scott" (Scott's rule on
// the observations' spread, the default with several objectives).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "search_spaces/sampler.h"
#include "search_spaces/spec.h"

namespace {

using fersweep::search::Json;

constexpr double kStyblinskiTangMinimum = -39.16616570377142 * 6;

double styblinski_tang(const Json& c) {
  double total = 0;
  for (int i = 1; i <= 6; ++i) {
    const double x = 10 * c["x" + std::to_string(i)].get<double>() - 5;
    total += 0.5 * (x * x * x * x - 16 * x * x + 5 * x);
  }
  return total;
}

struct Function {
  std::string name, benchmark;
  double minimum;
  double (*evaluate)(const Json&);
};

const Function kFunctions[] = {
    {"hartmann6", "hartmann6", -3.32236801141551,
     [](const Json& c) {
       return fersweep::benchmarks::hartmann6(
           {c["x1"], c["x2"], c["x3"], c["x4"], c["x5"], c["x6"]});
     }},
    {"branin", "branin", 0.397887357729738,
     [](const Json& c) { return fersweep::benchmarks::branin(c["x1"], c["x2"]); }},
    {"styblinski-tang 6-D", "hartmann6", kStyblinskiTangMinimum, styblinski_tang},
};

double median_regret(const Function& f, double bandwidth, int seeds, int trials) {
  std::vector<double> regrets;
  for (int seed = 1; seed <= seeds; ++seed) {
    Json parameters = Json::object();
    for (const auto& d : fersweep::benchmarks::find_benchmark(f.benchmark)->parameters) {
      parameters[d.name] = {{"distribution", "uniform"}, {"min", d.min}, {"max", d.max}};
    }
    auto spec = fersweep::search::parse_spec({{"method", "tpe"},
                                              {"seed", seed},
                                              {"metric", {{"name", "value"}, {"goal", "minimize"}}},
                                              {"budget", {{"trials", trials}}},
                                              {"benchmark", {{"function", f.benchmark}}},
                                              {"parameters", parameters}});
    spec.tpe.bandwidth = bandwidth;
    auto sampler = fersweep::search::make_sampler(spec);
    double best = INFINITY;
    for (int i = 0; i < trials; ++i) {
      const Json c = *sampler->ask();
      const double value = f.evaluate(c);
      best = std::min(best, value);
      sampler->tell(c, fersweep::TrialStatus::kFinished, value, 1);
    }
    regrets.push_back(best - f.minimum);
  }
  std::sort(regrets.begin(), regrets.end());
  const size_t n = regrets.size();
  return 0.5 * (regrets[(n - 1) / 2] + regrets[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 100;
  const int trials = argc > 2 ? std::atoi(argv[2]) : 50;
  std::vector<double> bandwidths;
  bool usage_error = seeds < 1 || trials < 1;
  for (int i = 3; i < argc; ++i) {
    const std::string_view text = argv[i];
    char* end = nullptr;
    const double value = std::strtod(argv[i], &end);
    if (text == "scott") {
      bandwidths.push_back(fersweep::search::TpeOptions::kScottBandwidth);
    } else if (!text.empty() && *end == '\0' && value > 0 && value <= 1) {
      bandwidths.push_back(value);
    } else {
      fmt::print(stderr, "tpe_bandwidth: bandwidth {:?}: not \"scott\" or in (0, 1]\n", text);
      usage_error = true;
    }
  }
  if (bandwidths.empty()) bandwidths = {0.2, 0.1, 0.06};
  if (usage_error) {
    fmt::print(stderr, "usage: tpe_bandwidth [seeds] [trials] [bandwidth|scott ...]\n");
    return 2;
  }
  fmt::print("median regret over {} seeds, {} trials\n\n| bandwidth", seeds, trials);
  for (const Function& f : kFunctions) fmt::print(" | {}", f.name);
  fmt::print(" |\n|---:");
  for (size_t i = 0; i < std::size(kFunctions); ++i) fmt::print("|---:");
  fmt::print("|\n");
  for (double bandwidth : bandwidths) {
    if (bandwidth == fersweep::search::TpeOptions::kScottBandwidth) {
      fmt::print("| scott");
    } else {
      fmt::print("| {}", bandwidth);
    }
    for (const Function& f : kFunctions) {
      fmt::print(" | {:.4f}", median_regret(f, bandwidth, seeds, trials));
    }
    fmt::print(" |\n");
  }
}
