#include "search_spaces/sampler.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "common/error.h"
#include "search_spaces/known_configs.h"
#include "search_spaces/nsga2.h"
#include "search_spaces/sobol.h"
#include "search_spaces/space.h"
#include "search_spaces/tpe.h"

namespace fersweep::search {

GridSampler::GridSampler(const std::vector<Parameter>& parameters)
    : parameters_(parameters), digits_(parameters.size(), 0) {
  for (const auto& p : parameters_) {
    if (!p.is_discrete()) {
      throw InputError(fmt::format("parameters.{}: grid search needs discrete values", p.name));
    }
  }
}

// Digits of inactive parameters stay 0, so every state of the odometer is a distinct config.
Json GridSampler::config() const {
  Json config = Json::object();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (is_active(parameters_[i], config))
      config[parameters_[i].name] = parameters_[i].values[digits_[i]];
  }
  return config;
}

bool GridSampler::advance(const Json& current) {
  for (size_t i = parameters_.size(); i-- > 0;) {
    if (!current.contains(parameters_[i].name)) continue;
    if (digits_[i] + 1 < parameters_[i].values.size()) {
      ++digits_[i];
      std::fill(digits_.begin() + static_cast<std::ptrdiff_t>(i) + 1, digits_.end(), 0);
      return true;
    }
  }
  return false;
}

std::optional<Json> GridSampler::ask() {
  if (exhausted_) return std::nullopt;
  Json out = config();
  exhausted_ = !advance(out);
  return out;
}

uint64_t GridSampler::size(uint64_t limit) const {
  const bool conditional = std::any_of(parameters_.begin(), parameters_.end(),
                                       [](const Parameter& p) { return p.is_conditional(); });
  if (!conditional) {  // a plain product, without walking it
    uint64_t product = 1;
    for (const auto& p : parameters_) {
      if (product > limit / p.values.size()) return limit;
      product *= p.values.size();
    }
    return std::min(product, limit);
  }
  GridSampler counter(parameters_);
  uint64_t count = 0;
  while (count < limit && counter.ask()) ++count;
  return count;
}

RandomSampler::RandomSampler(const std::vector<Parameter>& parameters, uint64_t seed)
    : parameters_(parameters), rng_(mix_seed(seed, 0x5A3B1E)) {}

std::optional<Json> RandomSampler::ask() {
  return random_config(parameters_, rng_);
}

bool Sampler::replay(const Json& params) {
  const std::optional<Json> asked = ask();
  return asked && *asked == params;
}

std::vector<bool> goals_of(const SweepSpec& spec) {
  std::vector<bool> maximize;
  for (const Objective& o : spec.objectives) maximize.push_back(o.maximize);
  if (maximize.empty()) maximize.push_back(spec.objective.maximize);  // a spec built in code
  return maximize;
}

namespace {

std::unique_ptr<Sampler> method_sampler(const SweepSpec& spec) {
  switch (spec.method) {
    case Method::kGrid:
      return std::make_unique<GridSampler>(spec.parameters);
    case Method::kRandom:
    case Method::kPbt:  // the initial population
      return std::make_unique<RandomSampler>(spec.parameters, spec.seed);
    case Method::kSobol:
      return std::make_unique<SobolSampler>(spec.parameters, spec.seed);
    case Method::kTpe:
      return std::make_unique<TpeSampler>(spec.parameters, spec.tpe, goals_of(spec), spec.seed);
    case Method::kNsga2:
      return std::make_unique<Nsga2Sampler>(spec.parameters, spec.nsga2, goals_of(spec), spec.seed);
  }
  throw std::logic_error("make_sampler: unknown method");
}

}  // namespace

std::unique_ptr<Sampler> make_sampler(const SweepSpec& spec) {
  if (spec.initial_configs.empty()) return method_sampler(spec);
  return std::make_unique<InitialConfigsSampler>(initial_configs_of(spec), method_sampler(spec));
}

uint64_t planned_trials(const SweepSpec& spec) {
  if (spec.method == Method::kPbt) return static_cast<uint64_t>(spec.pbt.population);
  const auto budget = spec.budget.trials ? static_cast<uint64_t>(*spec.budget.trials) : 0;
  if (spec.method != Method::kGrid) return budget;
  const uint64_t grid = GridSampler(spec.parameters).size(kLargestCountedGrid + 1);
  if (grid > kLargestCountedGrid && budget == 0) {
    throw InputError(fmt::format(
        "parameters: the grid has more than {} points; set budget.trials to sample a prefix",
        kLargestCountedGrid));
  }
  return budget == 0 ? grid : std::min(grid, budget);
}

}  // namespace fersweep::search
