#include "search_spaces/spec.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep::search {
namespace {

void check_candidate(const std::string& name, const Json& value, const std::string& path) {
  if (auto problem = TrialConfig::parameter_problem(name, value); !problem.empty()) {
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

Parameter parse_parameter(const std::string& name, const Json& body, const std::string& path) {
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
    check_candidate(name, p.values[0], reader.path_of("value"));
  } else if (has_values) {
    p.distribution = Distribution::kValues;
    const Json& values = *reader.find("values");
    const std::string values_path = reader.path_of("values");
    if (!values.is_array() || values.empty()) {
      throw InputError(fmt::format("{}: expected a non-empty list", values_path));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      check_candidate(name, values[i], fmt::format("{}[{}]", values_path, i));
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
    check_candidate(name, integral ? Json(int64_t(p.min)) : Json(p.min), reader.path_of("min"));
    check_candidate(name, integral ? Json(int64_t(p.max)) : Json(p.max), reader.path_of("max"));
  }
  reader.reject_unknown_keys();
  return p;
}

Objective parse_objective(const Json& body, const std::string& path) {
  ObjectReader reader(body, path);
  Objective objective;
  objective.metric = reader.string("name");
  const auto& known = epoch_metric_names();
  if (std::find(known.begin(), known.end(), objective.metric) == known.end()) {
    throw InputError(fmt::format("{}: unknown metric \"{}\" (choose from {})",
                                 reader.path_of("name"), objective.metric, fmt::join(known, ", ")));
  }
  const std::string goal = reader.string("goal");
  if (goal != "maximize" && goal != "minimize") {
    throw InputError(fmt::format("{}: expected \"maximize\" or \"minimize\", got \"{}\"",
                                 reader.path_of("goal"), goal));
  }
  objective.maximize = goal == "maximize";
  reader.reject_unknown_keys();
  return objective;
}

int bounded_int(ObjectReader& reader, const char* key, int64_t lo, int64_t hi,
                std::optional<int64_t> fallback) {
  const int64_t v = reader.integer(key, fallback);
  if (v < lo || v > hi) {
    throw InputError(
        fmt::format("{}: must be in [{}, {}], got {}", reader.path_of(key), lo, hi, v));
  }
  return static_cast<int>(v);
}

}  // namespace

std::string to_string(Method method) {
  return method == Method::kGrid ? "grid" : "random";
}

SweepSpec parse_spec(const Json& document) {
  ObjectReader top(document, "");
  SweepSpec spec;
  spec.document = document;
  spec.name = top.string("name", "sweep");
  top.find("description");  // free text, kept in the stored document
  const std::string method = top.string("method");
  if (method == "grid") {
    spec.method = Method::kGrid;
  } else if (method == "random") {
    spec.method = Method::kRandom;
  } else {
    throw InputError(
        fmt::format("method: unknown search method \"{}\" (choose from grid, random)", method));
  }
  spec.objective = parse_objective(top.required("metric"), "metric");
  spec.epochs = bounded_int(top, "epochs", 1, 100000, 5);
  const int64_t seed = top.integer("seed", 0);
  if (seed < 0) throw InputError(fmt::format("seed: must be >= 0, got {}", seed));
  spec.seed = static_cast<uint64_t>(seed);

  if (const Json* budget = top.find("budget")) {
    ObjectReader reader(*budget, "budget");
    if (reader.has("trials")) spec.max_trials = bounded_int(reader, "trials", 1, 10'000'000, {});
    reader.reject_unknown_keys();
  }
  if (!spec.max_trials && spec.method != Method::kGrid) {
    throw InputError("budget.trials: required for method \"random\"");
  }
  if (const Json* data = top.find("data")) spec.data = DataConfig::from_spec(*data, "data");
  if (const Json* resources = top.find("resources")) {
    ObjectReader reader(*resources, "resources");
    spec.threads_per_worker = bounded_int(reader, "threads_per_worker", 0, 4096, 0);
    reader.reject_unknown_keys();
  }

  const Json& parameters = top.required("parameters");
  ObjectReader parameter_reader(parameters, "parameters");
  for (const auto& [name, body] : parameters.items()) {
    parameter_reader.find(name);
    const auto& known = TrialConfig::parameter_names();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw InputError(fmt::format("parameters.{}: unknown parameter (known: {})", name,
                                   fmt::join(known, ", ")));
    }
    spec.parameters.push_back(parse_parameter(name, body, "parameters." + name));
  }
  if (spec.method == Method::kGrid) {
    for (const auto& p : spec.parameters) {
      if (!p.is_discrete()) {
        throw InputError(fmt::format(
            "parameters.{}: grid search needs \"value\" or \"values\", not a distribution",
            p.name));
      }
    }
  }
  top.reject_unknown_keys();
  return spec;
}

SweepSpec load_spec_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open spec file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  Json document;
  try {
    document = Json::parse(text);
  } catch (const Json::parse_error& e) {
    const size_t upto = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const size_t line = 1 + std::count(text.begin(), text.begin() + upto, '\n');
    const size_t line_start = text.rfind('\n', upto == 0 ? 0 : upto - 1);
    const size_t column = line_start == std::string::npos ? upto + 1 : upto - line_start;
    throw InputError(fmt::format("{}:{}:{}: invalid JSON ({})", path, line, column, e.what()));
  }
  try {
    return parse_spec(document);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace fersweep::search
