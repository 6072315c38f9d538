#pragma once
// What a trial costs and the bounds a sweep puts on any metric ("constraints" in a spec).
//
// Costs are the metrics a trial has before it trains: its size, its arithmetic, its training
// memory and its inference latency, measured on the worker from the untrained network. A trial
// whose costs break a bound is never trained; one whose trained metrics break a bound is
// infeasible after training. Either way it is stored as `infeasible` with the bound it broke.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep {

// param_count, flops (forward, one image), train_memory_mb (weights, gradients, optimizer state
// and activations at the trial's batch size), inference_ms (one image), batch_inference_ms (one
// batch of CostRequest::inference_batch images).
const std::vector<std::string>& cost_metric_names();
bool is_cost_metric(const std::string& name);

// Which costs a trial measures. Size and arithmetic are always counted (cheap, exact); memory
// takes two training passes and latency a timing loop, so they are measured when a spec names
// them. Latency is the one metric that differs between runs of the same spec and seed.
struct CostRequest {
  bool memory = false;
  bool latency = false;
  int inference_batch = 32;
  int latency_repeats = 10;  // timed forward passes per batch size; the median is reported

  bool operator==(const CostRequest&) const = default;
};

// {"param_count": {"max": 2e6}}: the metric must lie in [min, max] (either bound may be absent).
struct Constraint {
  std::string metric;
  std::optional<double> min;
  std::optional<double> max;

  bool operator==(const Constraint&) const = default;
  // How far `value` lies outside the bounds, relative to the bound's magnitude (so metrics of
  // different scales add up); 0 inside.
  double violation(double value) const;
  // "param_count <= 2e+06" (or ">=", or "in [a, b]").
  std::string describe() const;
};

// Parses a spec's "constraints" object; InputError naming `path`.<metric> for a bound that is not
// a number, an unknown key, min > max, or a metric outside `known`.
std::vector<Constraint> parse_constraints(const nlohmann::json& body, const std::string& path,
                                          const std::vector<std::string>& known);

struct ConstraintCheck {
  double violation = 0;  // summed over the constraints whose metric is in the values
  std::string reason;    // the broken constraints with their values; empty when none is broken
  bool feasible() const { return reason.empty(); }
};

// Checks the constraints whose metric `values` holds; the others are not judged (yet).
ConstraintCheck check_constraints(const std::vector<Constraint>& constraints,
                                  const std::map<std::string, double>& values);

// The final metric under which an infeasible trial's summed violation is stored.
inline constexpr const char* kViolationMetric = "constraint_violation";

void to_json(nlohmann::json& out, const CostRequest& request);
void from_json(const nlohmann::json& in, CostRequest& request);
void to_json(nlohmann::json& out, const Constraint& constraint);
void from_json(const nlohmann::json& in, Constraint& constraint);

}  // namespace fersweep
