#include "search_spaces/spec.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep::search {
namespace {

// What a sweep's trials accept and report: the LibTorch trainer's parameters and metrics, or a
// benchmark function's.
struct Vocabulary {
  std::function<std::string(const std::string&, const Json&)> problem;
  std::vector<std::string> parameter_names;
  std::vector<std::string> metrics;
};

Vocabulary trainer_vocabulary() {
  return {TrialConfig::parameter_problem, TrialConfig::parameter_names(), epoch_metric_names()};
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

Objective parse_objective(const Vocabulary& vocabulary, const Json& body, const std::string& path) {
  ObjectReader reader(body, path);
  Objective objective;
  objective.metric = reader.string("name");
  const auto& known = vocabulary.metrics;
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

// "wall_time": seconds as a number, or a duration such as "90s", "45m", "2h", "1h30m", "1d".
double parse_duration(const Json& value, const std::string& path) {
  if (value.is_number()) {
    const double seconds = value.get<double>();
    if (!(seconds > 0))
      throw InputError(fmt::format("{}: must be > 0 seconds, got {}", path, seconds));
    return seconds;
  }
  if (!value.is_string()) {
    throw InputError(fmt::format("{}: expected seconds or a duration such as \"2h30m\", got {}",
                                 path, json_type_name(value)));
  }
  const std::string text = value.get<std::string>();
  double total = 0;
  size_t i = 0;
  auto bad = [&] {
    return InputError(fmt::format(
        "{}: cannot read duration \"{}\" (write e.g. \"90s\", \"45m\", \"2h\", \"1h30m\", \"1d\")",
        path, text));
  };
  if (text.empty()) throw bad();
  while (i < text.size()) {
    size_t digits = i;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
      ++digits;
    }
    if (digits == i || digits == text.size()) throw bad();
    double amount = 0;
    try {
      amount = std::stod(text.substr(i, digits - i));
    } catch (const std::exception&) {
      throw bad();
    }
    const char unit = text[digits];
    const double scale = unit == 's'   ? 1
                         : unit == 'm' ? 60
                         : unit == 'h' ? 3600
                         : unit == 'd' ? 86400
                                       : 0;
    if (scale == 0) throw bad();
    total += amount * scale;
    i = digits + 1;
  }
  if (!(total > 0)) throw bad();
  return total;
}

Budget parse_budget(const Json& body) {
  ObjectReader reader(body, "budget");
  Budget budget;
  if (reader.has("trials")) budget.trials = bounded_int(reader, "trials", 1, 10'000'000, {});
  if (const Json* wall = reader.find("wall_time")) {
    budget.wall_seconds = parse_duration(*wall, reader.path_of("wall_time"));
  }
  reader.reject_unknown_keys();
  return budget;
}

TpeOptions parse_tpe(const Json& body) {
  ObjectReader reader(body, "tpe");
  TpeOptions tpe;
  tpe.startup_trials = bounded_int(reader, "startup_trials", 0, 1'000'000, tpe.startup_trials);
  tpe.candidates = bounded_int(reader, "candidates", 1, 100'000, tpe.candidates);
  tpe.gamma = reader.number("gamma", tpe.gamma);
  if (!(tpe.gamma > 0 && tpe.gamma < 1)) {
    throw InputError(fmt::format("tpe.gamma: must be in (0, 1), got {}", tpe.gamma));
  }
  tpe.multivariate = reader.boolean("multivariate", tpe.multivariate);
  tpe.constant_liar = reader.boolean("constant_liar", tpe.constant_liar);
  tpe.prior_weight = reader.number("prior_weight", tpe.prior_weight);
  if (!(tpe.prior_weight > 0 && tpe.prior_weight <= 1000)) {
    throw InputError(
        fmt::format("tpe.prior_weight: must be in (0, 1000], got {}", tpe.prior_weight));
  }
  reader.reject_unknown_keys();
  return tpe;
}

EarlyStopping parse_early_stopping(const Json& body, int epochs) {
  ObjectReader reader(body, "early_stopping");
  EarlyStopping rule;
  const std::string type = reader.string("type");
  if (type == "none") {
    rule.rule = StoppingRule::kNone;
  } else if (type == "median") {
    rule.rule = StoppingRule::kMedian;
    rule.min_epochs = bounded_int(reader, "min_epochs", 1, epochs, rule.min_epochs);
    rule.startup_trials = bounded_int(reader, "startup_trials", 0, 1'000'000, rule.startup_trials);
  } else if (type == "asha" || type == "hyperband") {
    rule.rule = type == "asha" ? StoppingRule::kAsha : StoppingRule::kHyperband;
    rule.min_epochs = bounded_int(reader, "min_epochs", 1, 100000, rule.min_epochs);
    rule.eta = bounded_int(reader, "eta", 2, 100, rule.eta);
    if (rule.min_epochs >= epochs) {
      throw InputError(fmt::format(
          "early_stopping.min_epochs: the first rung ({}) must come before the last epoch ({}), "
          "or nothing is ever stopped",
          rule.min_epochs, epochs));
    }
  } else {
    throw InputError(fmt::format(
        "early_stopping.type: unknown rule \"{}\" (choose from none, median, asha, hyperband)",
        type));
  }
  reader.reject_unknown_keys();
  return rule;
}

Method parse_method(const std::string& method) {
  if (method == "grid") return Method::kGrid;
  if (method == "random") return Method::kRandom;
  if (method == "sobol") return Method::kSobol;
  if (method == "tpe") return Method::kTpe;
  throw InputError(fmt::format(
      "method: unknown search method \"{}\" (choose from grid, random, sobol, tpe)", method));
}

}  // namespace

std::string to_string(Method method) {
  switch (method) {
    case Method::kGrid:
      return "grid";
    case Method::kRandom:
      return "random";
    case Method::kSobol:
      return "sobol";
    case Method::kTpe:
      return "tpe";
  }
  return "unknown";
}

std::string to_string(StoppingRule rule) {
  switch (rule) {
    case StoppingRule::kNone:
      return "none";
    case StoppingRule::kMedian:
      return "median";
    case StoppingRule::kAsha:
      return "asha";
    case StoppingRule::kHyperband:
      return "hyperband";
  }
  return "unknown";
}

SweepSpec parse_spec(const Json& document) {
  ObjectReader top(document, "");
  SweepSpec spec;
  spec.document = document;
  spec.name = top.string("name", "sweep");
  top.find("description");  // free text, kept in the stored document
  spec.method = parse_method(top.string("method"));

  Vocabulary vocabulary = trainer_vocabulary();
  if (const Json* benchmark = top.find("benchmark")) {
    const auto settings = benchmarks::BenchmarkSettings::from_spec(*benchmark, "benchmark");
    spec.benchmark = settings;
    vocabulary = benchmark_vocabulary(*benchmarks::find_benchmark(settings.function));
    if (top.has("data")) throw InputError("data: a benchmark sweep trains on no data; remove it");
  }
  spec.objective = parse_objective(vocabulary, top.required("metric"), "metric");
  spec.epochs = bounded_int(top, "epochs", 1, 100000, 5);
  const int64_t seed = top.integer("seed", 0);
  if (seed < 0) throw InputError(fmt::format("seed: must be >= 0, got {}", seed));
  spec.seed = static_cast<uint64_t>(seed);

  if (const Json* budget = top.find("budget")) spec.budget = parse_budget(*budget);
  if (!spec.budget.trials && !spec.budget.wall_seconds && spec.method != Method::kGrid) {
    throw InputError(fmt::format("budget: method \"{}\" needs \"trials\", \"wall_time\" or both",
                                 to_string(spec.method)));
  }
  if (const Json* tpe = top.find("tpe")) {
    if (spec.method != Method::kTpe) throw InputError("tpe: only used with method \"tpe\"");
    spec.tpe = parse_tpe(*tpe);
  }
  if (const Json* rule = top.find("early_stopping")) {
    spec.early_stopping = parse_early_stopping(*rule, spec.epochs);
  }
  if (const Json* data = top.find("data")) spec.data = DataConfig::from_spec(*data, "data");
  if (const Json* resources = top.find("resources")) {
    ObjectReader reader(*resources, "resources");
    spec.threads_per_worker = bounded_int(reader, "threads_per_worker", 0, 4096, 0);
    reader.reject_unknown_keys();
  }

  const Json& parameters = top.required("parameters");
  ObjectReader parameter_reader(parameters, "parameters");
  std::vector<Parameter> parsed;
  for (const auto& [name, body] : parameters.items()) {
    parameter_reader.find(name);
    const auto& known = vocabulary.parameter_names;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw InputError(fmt::format("parameters.{}: unknown parameter (known: {})", name,
                                   fmt::join(known, ", ")));
    }
    parsed.push_back(parse_parameter(vocabulary, name, body, "parameters." + name));
  }
  spec.parameters = order_by_dependency(std::move(parsed));
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
