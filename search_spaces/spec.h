#pragma once
// Sweep spec files (JSON, keys in the style of Weights & Biases sweeps):
//
//   { "name": "...", "method": "grid" | "random", "seed": 7, "epochs": 5,
//     "metric": {"name": "val_accuracy", "goal": "maximize"},
//     "budget": {"trials": 8},
//     "data": {"source": "synthetic", "train_size": 2400, "val_size": 600},
//     "resources": {"threads_per_worker": 0},
//     "parameters": { "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 1e-2},
//                     "batch_size": {"values": [32, 64]}, "arch": {"value": "vgg_custom"} } }
//
// Parsing is strict: unknown keys, wrong types and impossible ranges throw InputError naming the
// JSON path (and, from load_spec_file, the file).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trial.h"

namespace fersweep::search {

using Json = nlohmann::json;

enum class Distribution { kValue, kValues, kUniform, kLogUniform, kIntUniform, kQUniform };

struct Parameter {
  std::string name;
  Distribution distribution = Distribution::kValue;
  std::vector<Json> values;  // kValue: exactly one; kValues: the choices
  double min = 0, max = 0, q = 0;

  bool is_discrete() const {
    return distribution == Distribution::kValue || distribution == Distribution::kValues;
  }
};

enum class Method { kGrid, kRandom };

struct Objective {
  std::string metric = "val_accuracy";
  bool maximize = true;
};

struct SweepSpec {
  std::string name;
  Method method = Method::kRandom;
  Objective objective;
  std::optional<int> max_trials;  // absent: the whole grid
  int epochs = 5;
  uint64_t seed = 0;
  DataConfig data;
  int threads_per_worker = 0;         // 0: cores per node / training ranks per node
  std::vector<Parameter> parameters;  // sorted by name
  Json document;                      // the spec as written, stored with the sweep
};

SweepSpec parse_spec(const Json& document);
// Reads and parses a spec file; errors start with the file name (and line:column for JSON syntax).
SweepSpec load_spec_file(const std::string& path);

std::string to_string(Method method);

}  // namespace fersweep::search
