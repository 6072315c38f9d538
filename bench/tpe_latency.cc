// TPE suggestion latency against the number of finished trials: a TPE sampler over a mixed
// space (four uniform, one log-uniform, one categorical, one integer parameter) is told N
// finished trials with random configs and values, then timed over 20 suggestions, each told
// back at once so the history stays at N.
//
//   build/bench/tpe_latency [N ...]        (default: 100 1000 10000)
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/heap.h"
#include "common/random.h"
#include "search_spaces/sampler.h"
#include "search_spaces/spec.h"

namespace {

using fersweep::search::Json;

Json space() {
  return Json::parse(R"({
    "method": "tpe", "seed": 7, "metric": {"name": "value", "goal": "minimize"},
    "budget": {"trials": 100000}, "benchmark": {"function": "hartmann6"},
    "tpe": {"startup_trials": 10},
    "parameters": {
      "x1": {"distribution": "uniform", "min": 0, "max": 1},
      "x2": {"distribution": "uniform", "min": 0, "max": 1},
      "x3": {"distribution": "uniform", "min": 0, "max": 1},
      "x4": {"distribution": "uniform", "min": 0, "max": 1},
      "x5": {"distribution": "log_uniform", "min": 0.001, "max": 1},
      "x6": {"values": [0.1, 0.3, 0.5, 0.7, 0.9]}
    }
  })");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {100, 1000, 10000};
  fersweep::keep_freed_memory_for_reuse();  // as `fersweep run` does
  const auto spec = fersweep::search::parse_spec(space());
  fmt::print("| finished trials | mean ask (ms) | slowest ask (ms) |\n|---:|---:|---:|\n");
  for (int n : sizes) {
    auto tpe = fersweep::search::make_sampler(spec);
    auto random = fersweep::search::make_sampler([&] {
      auto s = spec;
      s.method = fersweep::search::Method::kRandom;
      return s;
    }());
    fersweep::Rng rng(11);
    for (int i = 0; i < n; ++i) {
      const Json params = *random->ask();
      tpe->tell(params, fersweep::TrialStatus::kFinished, fersweep::uniform(rng, -3, 0), 1);
    }
    constexpr int kAsks = 20;
    double total = 0, slowest = 0;
    for (int i = 0; i < kAsks; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const Json params = *tpe->ask();
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      total += ms;
      slowest = std::max(slowest, ms);
      tpe->tell(params, fersweep::TrialStatus::kFinished, fersweep::uniform(rng, -3, 0), 1);
    }
    fmt::print("| {} | {:.2f} | {:.2f} |\n", n, total / kAsks, slowest);
  }
  return 0;
}
