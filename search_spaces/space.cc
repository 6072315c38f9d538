#include "search_spaces/space.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fersweep::search {

bool is_active(const Parameter& parameter, const Json& config) {
  for (const auto& condition : parameter.when) {
    auto it = config.find(condition.parent);
    if (it == config.end()) return false;  // the parent is itself inactive
    if (std::find(condition.allowed.begin(), condition.allowed.end(), *it) ==
        condition.allowed.end()) {
      return false;
    }
  }
  return true;
}

Json value_at(const Parameter& p, double u) {
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  auto pick = [u](uint64_t n) { return std::min<uint64_t>(n - 1, static_cast<uint64_t>(u * n)); };
  switch (p.distribution) {
    case Distribution::kValue:
      return p.values.front();
    case Distribution::kValues:
      return p.values[pick(p.values.size())];
    case Distribution::kUniform:
      return p.min + u * (p.max - p.min);
    case Distribution::kLogUniform:
      return std::exp(std::log(p.min) + u * (std::log(p.max) - std::log(p.min)));
    case Distribution::kIntUniform: {
      const auto lo = static_cast<int64_t>(p.min), hi = static_cast<int64_t>(p.max);
      return lo + static_cast<int64_t>(pick(static_cast<uint64_t>(hi - lo + 1)));
    }
    case Distribution::kQUniform: {
      const double lo = std::ceil(p.min / p.q), hi = std::floor(p.max / p.q);
      return (lo + static_cast<double>(pick(static_cast<uint64_t>(hi - lo) + 1))) * p.q;
    }
  }
  throw std::logic_error("value_at: unknown distribution");
}

Json config_from_unit(const std::vector<Parameter>& parameters, const std::vector<double>& u) {
  Json config = Json::object();
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (is_active(parameters[i], config))
      config[parameters[i].name] = value_at(parameters[i], u[i]);
  }
  return config;
}

Json random_config(const std::vector<Parameter>& parameters, Rng& rng) {
  std::vector<double> u(parameters.size());
  for (auto& x : u) x = uniform01(rng);
  return config_from_unit(parameters, u);
}

}  // namespace fersweep::search
