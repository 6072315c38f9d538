#include "common/constraints.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;

double relative_excess(double excess, double bound) {
  return excess / (bound != 0 ? std::abs(bound) : 1.0);
}

}  // namespace

const std::vector<std::string>& cost_metric_names() {
  static const std::vector<std::string> names = {"param_count", "flops", "train_memory_mb",
                                                 "inference_ms", "batch_inference_ms"};
  return names;
}

bool is_cost_metric(const std::string& name) {
  const auto& names = cost_metric_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

double Constraint::violation(double value) const {
  if (std::isnan(value)) return 1.0;  // a metric that went NaN satisfies no bound
  double total = 0;
  if (max && value > *max) total += relative_excess(value - *max, *max);
  if (min && value < *min) total += relative_excess(*min - value, *min);
  return total;
}

std::string Constraint::describe() const {
  if (min && max) return fmt::format("{} in [{:g}, {:g}]", metric, *min, *max);
  if (max) return fmt::format("{} <= {:g}", metric, *max);
  return fmt::format("{} >= {:g}", metric, min.value_or(0));
}

std::vector<Constraint> parse_constraints(const Json& body, const std::string& path,
                                          const std::vector<std::string>& known) {
  ObjectReader outer(body, path);
  std::vector<Constraint> constraints;
  for (const auto& [metric, bounds] : body.items()) {
    const std::string at = outer.path_of(metric);
    if (std::find(known.begin(), known.end(), metric) == known.end()) {
      throw InputError(fmt::format("{}: unknown metric \"{}\" (choose from {})", at, metric,
                                   fmt::join(known, ", ")));
    }
    outer.find(metric);
    ObjectReader reader(bounds, at);
    Constraint constraint{metric, std::nullopt, std::nullopt};
    if (reader.has("min")) constraint.min = reader.number("min");
    if (reader.has("max")) constraint.max = reader.number("max");
    reader.reject_unknown_keys();
    if (!constraint.min && !constraint.max) {
      throw InputError(fmt::format("{}: give \"min\", \"max\" or both", at));
    }
    if (constraint.min && constraint.max && *constraint.min > *constraint.max) {
      throw InputError(
          fmt::format("{}: min {:g} is above max {:g}", at, *constraint.min, *constraint.max));
    }
    constraints.push_back(std::move(constraint));
  }
  return constraints;
}

ConstraintCheck check_constraints(const std::vector<Constraint>& constraints,
                                  const std::map<std::string, double>& values) {
  ConstraintCheck check;
  for (const Constraint& c : constraints) {
    const auto it = values.find(c.metric);
    if (it == values.end()) continue;
    const double violation = c.violation(it->second);
    if (violation <= 0) continue;
    check.violation += violation;
    check.reason += fmt::format("{}{} is {:g}, beyond {}", check.reason.empty() ? "" : "; ",
                                c.metric, it->second, c.describe());
  }
  return check;
}

void to_json(Json& out, const CostRequest& r) {
  out = {{"memory", r.memory},
         {"latency", r.latency},
         {"inference_batch", r.inference_batch},
         {"latency_repeats", r.latency_repeats}};
}

void from_json(const Json& in, CostRequest& r) {
  in.at("memory").get_to(r.memory);
  in.at("latency").get_to(r.latency);
  in.at("inference_batch").get_to(r.inference_batch);
  in.at("latency_repeats").get_to(r.latency_repeats);
}

void to_json(Json& out, const Constraint& c) {
  out = {{"metric", c.metric}};
  if (c.min) out["min"] = *c.min;
  if (c.max) out["max"] = *c.max;
}

void from_json(const Json& in, Constraint& c) {
  in.at("metric").get_to(c.metric);
  c.min = in.contains("min") ? std::optional<double>(in.at("min").get<double>()) : std::nullopt;
  c.max = in.contains("max") ? std::optional<double>(in.at("max").get<double>()) : std::nullopt;
}

}  // namespace fersweep
