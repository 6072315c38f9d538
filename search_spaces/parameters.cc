#include "search_spaces/parameters.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep::search {
namespace {

void check_candidate(const Vocabulary& vocabulary, const std::string& name, const Json& value,
                     const std::string& path) {
  if (auto problem = vocabulary.problem(name, value); !problem.empty()) {
    throw InputError(fmt::format("{}: {}", path, problem));
  }
}

Distribution parse_distribution(const std::string& text, const std::string& path) {
  if (text == "uniform") return Distribution::kUniform;
  if (text == "log_uniform" || text == "log_uniform_values") return Distribution::kLogUniform;
  if (text == "int_uniform") return Distribution::kIntUniform;
  if (text == "q_uniform") return Distribution::kQUniform;
  throw InputError(
      fmt::format("{}: unknown distribution \"{}\" (choose from uniform, log_uniform, int_uniform, "
                  "q_uniform)",
                  path, text));
}

std::vector<Condition> parse_conditions(const Json& body, const std::string& path) {
  ObjectReader reader(body, path);
  std::vector<Condition> conditions;
  for (const auto& [parent, allowed] : body.items()) {
    reader.find(parent);
    Condition c{parent, {}};
    if (allowed.is_array()) {
      if (allowed.empty()) throw InputError(fmt::format("{}: expected a non-empty list", path));
      c.allowed.assign(allowed.begin(), allowed.end());
    } else {
      c.allowed.push_back(allowed);
    }
    conditions.push_back(std::move(c));
  }
  if (conditions.empty())
    throw InputError(fmt::format("{}: expected at least one condition", path));
  return conditions;
}

Parameter parse_parameter(const Vocabulary& vocabulary, const std::string& name, const Json& body,
                          const std::string& path) {
  ObjectReader reader(body, path);
  Parameter p;
  p.name = name;
  const bool has_value = reader.has("value"), has_values = reader.has("values");
  const bool has_distribution = reader.has("distribution");
  if (int(has_value) + int(has_values) + int(has_distribution) != 1) {
    throw InputError(
        fmt::format("{}: give exactly one of \"value\", \"values\" or \"distribution\"", path));
  }
  if (has_value) {
    p.distribution = Distribution::kValue;
    p.values = {*reader.find("value")};
    check_candidate(vocabulary, name, p.values[0], reader.path_of("value"));
  } else if (has_values) {
    p.distribution = Distribution::kValues;
    const Json& values = *reader.find("values");
    const std::string values_path = reader.path_of("values");
    if (!values.is_array() || values.empty()) {
      throw InputError(fmt::format("{}: expected a non-empty list", values_path));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      check_candidate(vocabulary, name, values[i], fmt::format("{}[{}]", values_path, i));
      if (std::find(p.values.begin(), p.values.end(), values[i]) != p.values.end()) {
        throw InputError(
            fmt::format("{}[{}]: duplicate value {}", values_path, i, values[i].dump()));
      }
      p.values.push_back(values[i]);
    }
  } else {
    p.distribution =
        parse_distribution(reader.string("distribution"), reader.path_of("distribution"));
    p.min = reader.number("min");
    p.max = reader.number("max");
    if (!(p.min < p.max)) {
      throw InputError(fmt::format("{}: min ({}) must be less than max ({})", path, p.min, p.max));
    }
    if (p.distribution == Distribution::kLogUniform && p.min <= 0) {
      throw InputError(
          fmt::format("{}: log_uniform needs min > 0, got {}", reader.path_of("min"), p.min));
    }
    if (p.distribution == Distribution::kIntUniform) {
      reader.integer("min");  // both bounds must be written as integers
      reader.integer("max");
    }
    if (p.distribution == Distribution::kQUniform) {
      p.q = reader.number("q");
      if (!(p.q > 0)) throw InputError(fmt::format("{}: must be > 0", reader.path_of("q")));
      if (std::ceil(p.min / p.q) > std::floor(p.max / p.q)) {
        throw InputError(
            fmt::format("{}: no multiple of q={} lies in [{}, {}]", path, p.q, p.min, p.max));
      }
    }
    // Both ends of the range must be acceptable values of the parameter.
    const bool integral = p.distribution == Distribution::kIntUniform;
    check_candidate(vocabulary, name, integral ? Json(int64_t(p.min)) : Json(p.min),
                    reader.path_of("min"));
    check_candidate(vocabulary, name, integral ? Json(int64_t(p.max)) : Json(p.max),
                    reader.path_of("max"));
  }
  if (const Json* when = reader.find("when"))
    p.when = parse_conditions(*when, reader.path_of("when"));
  p.mutable_ = reader.boolean("mutable", false);
  reader.reject_unknown_keys();
  return p;
}

// Checks every condition against its parent and orders the parameters so that parents come
// before the parameters that depend on them (otherwise by name).
std::vector<Parameter> order_by_dependency(std::vector<Parameter> parameters) {
  std::map<std::string, const Parameter*> by_name;
  for (const auto& p : parameters) by_name[p.name] = &p;
  for (const auto& p : parameters) {
    for (const auto& c : p.when) {
      const std::string path = fmt::format("parameters.{}.when.{}", p.name, c.parent);
      auto it = by_name.find(c.parent);
      if (it == by_name.end()) throw InputError(path + ": no such parameter in this spec");
      if (c.parent == p.name) throw InputError(path + ": a parameter cannot depend on itself");
      const Parameter& parent = *it->second;
      if (!parent.is_discrete()) {
        throw InputError(path + ": the parent must be a \"value\" or \"values\" parameter");
      }
      for (const auto& v : c.allowed) {
        if (std::find(parent.values.begin(), parent.values.end(), v) == parent.values.end()) {
          throw InputError(fmt::format("{}: {} is not one of {}'s values, so this never holds",
                                       path, v.dump(), c.parent));
        }
      }
    }
  }
  std::vector<Parameter> ordered;
  std::vector<bool> placed(parameters.size(), false);
  while (ordered.size() < parameters.size()) {
    bool progress = false;
    for (size_t i = 0; i < parameters.size(); ++i) {  // already sorted by name
      if (placed[i]) continue;
      const bool ready = std::all_of(
          parameters[i].when.begin(), parameters[i].when.end(), [&](const Condition& c) {
            return std::any_of(ordered.begin(), ordered.end(),
                               [&](const Parameter& q) { return q.name == c.parent; });
          });
      if (ready) {
        ordered.push_back(parameters[i]);
        placed[i] = true;
        progress = true;
        break;  // restart from the first name: parents first, otherwise alphabetical
      }
    }
    if (!progress) {
      for (size_t i = 0; i < parameters.size(); ++i) {
        if (!placed[i]) {
          throw InputError(
              fmt::format("parameters.{}.when: conditions form a cycle", parameters[i].name));
        }
      }
    }
  }
  return ordered;
}

}  // namespace

Vocabulary trainer_vocabulary() {
  std::vector<std::string> metrics = epoch_metric_names();
  metrics.insert(metrics.end(), cost_metric_names().begin(), cost_metric_names().end());
  return {TrialConfig::parameter_problem, TrialConfig::parameter_names(), std::move(metrics)};
}

Vocabulary benchmark_vocabulary(const benchmarks::BenchmarkFunction& function) {
  Vocabulary v;
  v.problem = [&function](const std::string& name, const Json& value) {
    return benchmarks::parameter_problem(function, name, value);
  };
  for (const auto& d : function.parameters) v.parameter_names.push_back(d.name);
  v.metrics = function.metrics;
  return v;
}

std::vector<Parameter> parse_parameters(const Vocabulary& vocabulary, const Json& parameters) {
  ObjectReader reader(parameters, "parameters");
  std::vector<Parameter> parsed;
  for (const auto& [name, body] : parameters.items()) {
    reader.find(name);
    const auto& known = vocabulary.parameter_names;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw InputError(fmt::format("parameters.{}: unknown parameter (known: {})", name,
                                   fmt::join(known, ", ")));
    }
    parsed.push_back(parse_parameter(vocabulary, name, body, "parameters." + name));
  }
  return order_by_dependency(std::move(parsed));
}

}  // namespace fersweep::search
