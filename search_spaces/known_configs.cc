#include "search_spaces/known_configs.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "search_spaces/space.h"

namespace fersweep::search {
namespace {

std::optional<std::string> value_misfit(const Parameter& p, const Json& value) {
  if (p.is_discrete()) {
    if (std::find(p.values.begin(), p.values.end(), value) != p.values.end()) return std::nullopt;
    std::vector<std::string> choices;
    for (const Json& v : p.values) choices.push_back(v.dump());
    return fmt::format("{} is not one of {}", value.dump(), fmt::join(choices, ", "));
  }
  if (!value.is_number()) return fmt::format("{} is not a number", value.dump());
  const double v = value.get<double>();
  if (!(v >= p.min && v <= p.max)) {
    return fmt::format("{} is outside [{}, {}]", value.dump(), p.min, p.max);
  }
  if (p.distribution == Distribution::kIntUniform && v != std::floor(v)) {
    return fmt::format("{} is not an integer", value.dump());
  }
  if (p.distribution == Distribution::kQUniform &&
      std::abs(v - std::round(v / p.q) * p.q) > 1e-9 * std::max(1.0, std::abs(v))) {
    return fmt::format("{} is not a multiple of {}", value.dump(), p.q);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> misfit(const std::vector<Parameter>& parameters, const Json& config,
                                  bool partial) {
  if (!config.is_object()) return "not an object of parameter values";
  for (const auto& [name, value] : config.items()) {
    if (std::none_of(parameters.begin(), parameters.end(),
                     [&](const Parameter& p) { return p.name == name; })) {
      return fmt::format("{}: no such parameter in this space", name);
    }
  }
  // Parents precede their conditionals, so `config` decides each one's activity in this order.
  for (const Parameter& p : parameters) {
    const auto given = config.find(p.name);
    if (given != config.end() && partial) {
      for (const Condition& c : p.when) {
        if (!config.contains(c.parent)) {
          return fmt::format("{}: it is conditional on {}; give {} too", p.name, c.parent,
                             c.parent);
        }
      }
    }
    const bool active = is_active(p, config);
    if (given == config.end()) {
      if (active && !partial) return fmt::format("{}: missing", p.name);
      continue;
    }
    if (!active) return fmt::format("{}: inactive under the given values of its parents", p.name);
    if (auto why = value_misfit(p, *given)) return fmt::format("{}: {}", p.name, *why);
  }
  return std::nullopt;
}

Json completed(const std::vector<Parameter>& parameters, const Json& partial, Rng& rng) {
  Json config = Json::object();
  for (const Parameter& p : parameters) {
    const double u = uniform01(rng);  // drawn for every parameter: the stream stays aligned
    if (!is_active(p, config)) continue;
    const auto given = partial.find(p.name);
    config[p.name] = given != partial.end() ? *given : value_at(p, u);
  }
  return config;
}

std::vector<Json> initial_configs_of(const SweepSpec& spec) {
  std::vector<Json> configs;
  for (size_t i = 0; i < spec.initial_configs.size(); ++i) {
    Rng rng(mix_seed(spec.seed, 0x1D17A1C0 + i));
    configs.push_back(completed(spec.parameters, spec.initial_configs[i], rng));
  }
  return configs;
}

InitialConfigsSampler::InitialConfigsSampler(std::vector<Json> initial,
                                             std::unique_ptr<Sampler> next)
    : initial_(std::move(initial)), next_(std::move(next)) {}

std::optional<Json> InitialConfigsSampler::ask() {
  if (asked_ < initial_.size()) return initial_[asked_++];
  return next_->ask();
}

void InitialConfigsSampler::tell(const Json& params, TrialStatus status,
                                 std::span<const double> values, int epochs) {
  next_->tell(params, status, values, epochs);
}

void InitialConfigsSampler::tell_infeasible(const Json& params, double violation) {
  next_->tell_infeasible(params, violation);
}

void InitialConfigsSampler::tell_intermediate(const Json& params, int epoch,
                                              std::span<const double> values) {
  next_->tell_intermediate(params, epoch, values);
}

bool InitialConfigsSampler::replay(const Json& params) {
  if (asked_ < initial_.size()) return initial_[asked_++] == params;
  return next_->replay(params);
}

}  // namespace fersweep::search
