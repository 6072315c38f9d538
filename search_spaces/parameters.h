#pragma once
// The "parameters" section of a spec: each parameter's distribution, its conditions, and the
// order samplers walk them in. Internal to search_spaces (spec.cc is its user).
#include <functional>
#include <string>
#include <vector>

#include "benchmarks/functions.h"
#include "search_spaces/spec.h"

namespace fersweep::search {

// What a sweep's trials accept and report: the LibTorch trainer's parameters and metrics, or a
// benchmark function's.
struct Vocabulary {
  std::function<std::string(const std::string&, const Json&)> problem;
  std::vector<std::string> parameter_names;
  std::vector<std::string> metrics;
};

Vocabulary trainer_vocabulary();
Vocabulary benchmark_vocabulary(const benchmarks::BenchmarkFunction& function);

// Parses every parameter strictly (errors name "parameters.<name>...") and orders them by name,
// except that parents come before the parameters conditional on them.
std::vector<Parameter> parse_parameters(const Vocabulary& vocabulary, const Json& parameters);

}  // namespace fersweep::search
