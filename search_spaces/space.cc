#include "search_spaces/space.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

std::optional<double> unit_of(const Parameter& p, const Json& value) {
  auto cell = [](double index, double count) -> std::optional<double> {
    if (!(index >= 0 && index < count)) return std::nullopt;
    return (index + 0.5) / count;
  };
  if (p.distribution == Distribution::kValue || p.distribution == Distribution::kValues) {
    const auto it = std::find(p.values.begin(), p.values.end(), value);
    if (it == p.values.end()) return std::nullopt;
    return cell(static_cast<double>(it - p.values.begin()), static_cast<double>(p.values.size()));
  }
  if (!value.is_number()) return std::nullopt;
  const double v = value.get<double>();
  switch (p.distribution) {
    case Distribution::kUniform:
      if (!(v >= p.min && v <= p.max)) return std::nullopt;
      return p.max > p.min ? (v - p.min) / (p.max - p.min) : 0.5;
    case Distribution::kLogUniform:
      if (!(v >= p.min && v <= p.max)) return std::nullopt;
      return p.max > p.min ? std::log(v / p.min) / std::log(p.max / p.min) : 0.5;
    case Distribution::kIntUniform:
      return cell(v - p.min, p.max - p.min + 1);
    case Distribution::kQUniform: {
      const double lo = std::ceil(p.min / p.q), hi = std::floor(p.max / p.q);
      return cell(std::round(v / p.q) - lo, hi - lo + 1);
    }
    default:
      return std::nullopt;
  }
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
