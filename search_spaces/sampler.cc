#include "search_spaces/sampler.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::search {

GridSampler::GridSampler(const std::vector<Parameter>& parameters) : parameters_(parameters) {
  for (const auto& p : parameters_) {
    if (!p.is_discrete()) {
      throw InputError(fmt::format("parameters.{}: grid search needs discrete values", p.name));
    }
    if (size_ > std::numeric_limits<uint64_t>::max() / p.values.size()) {
      throw InputError("parameters: the grid has more than 2^64 points");
    }
    size_ *= p.values.size();
  }
}

std::optional<Json> GridSampler::ask() {
  if (next_ >= size_) return std::nullopt;
  Json config = Json::object();
  uint64_t rest = next_++;
  for (auto it = parameters_.rbegin(); it != parameters_.rend(); ++it) {
    config[it->name] = it->values[rest % it->values.size()];
    rest /= it->values.size();
  }
  return config;
}

RandomSampler::RandomSampler(const std::vector<Parameter>& parameters, uint64_t seed)
    : parameters_(parameters), rng_(mix_seed(seed, 0x5A3B1E)) {}

Json sample_parameter(const Parameter& p, Rng& rng) {
  switch (p.distribution) {
    case Distribution::kValue:
      return p.values.front();
    case Distribution::kValues:
      return p.values[uniform_index(rng, p.values.size())];
    case Distribution::kUniform:
      return uniform(rng, p.min, p.max);
    case Distribution::kLogUniform:
      return std::exp(uniform(rng, std::log(p.min), std::log(p.max)));
    case Distribution::kIntUniform: {
      const auto lo = static_cast<int64_t>(p.min), hi = static_cast<int64_t>(p.max);
      return lo + static_cast<int64_t>(uniform_index(rng, static_cast<uint64_t>(hi - lo + 1)));
    }
    case Distribution::kQUniform: {
      // Round to the grid of multiples of q that lie inside [min, max].
      const double lo = std::ceil(p.min / p.q), hi = std::floor(p.max / p.q);
      const auto steps = static_cast<uint64_t>(std::max(0.0, hi - lo));
      return (lo + static_cast<double>(uniform_index(rng, steps + 1))) * p.q;
    }
  }
  throw std::logic_error("sample_parameter: unknown distribution");
}

std::optional<Json> RandomSampler::ask() {
  Json config = Json::object();
  for (const auto& p : parameters_) config[p.name] = sample_parameter(p, rng_);
  return config;
}

std::unique_ptr<Sampler> make_sampler(const SweepSpec& spec) {
  if (spec.method == Method::kGrid) return std::make_unique<GridSampler>(spec.parameters);
  return std::make_unique<RandomSampler>(spec.parameters, spec.seed);
}

uint64_t planned_trials(const SweepSpec& spec) {
  if (spec.method == Method::kGrid) {
    const uint64_t grid = GridSampler(spec.parameters).size();
    return spec.max_trials ? std::min<uint64_t>(grid, *spec.max_trials) : grid;
  }
  return static_cast<uint64_t>(*spec.max_trials);
}

}  // namespace fersweep::search
