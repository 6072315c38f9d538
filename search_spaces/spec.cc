#include "search_spaces/spec.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>

#include <fmt/format.h>

#include "benchmarks/functions.h"
#include "common/emotions.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "search_spaces/known_configs.h"
#include "search_spaces/parameters.h"

namespace fersweep::search {
namespace {

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

// "metric": one {name, goal} object, or a list of them for a multi-objective (Pareto) search.
std::vector<Objective> parse_objectives(const Vocabulary& vocabulary, const Json& body) {
  if (!body.is_array()) return {parse_objective(vocabulary, body, "metric")};
  if (body.empty()) throw InputError("metric: expected at least one {name, goal} objective");
  std::vector<Objective> objectives;
  for (size_t i = 0; i < body.size(); ++i) {
    const std::string path = fmt::format("metric[{}]", i);
    objectives.push_back(parse_objective(vocabulary, body[i], path));
    for (size_t j = 0; j < i; ++j) {
      if (objectives[j].metric == objectives.back().metric) {
        throw InputError(fmt::format("{}.name: \"{}\" is already objective metric[{}]", path,
                                     objectives.back().metric, j));
      }
    }
  }
  return objectives;
}

Nsga2Options parse_nsga2(const Json& body) {
  ObjectReader reader(body, "nsga2");
  Nsga2Options options;
  options.population = reader.int_in("population", 2, 100'000, options.population);
  auto probability = [&](const char* key, double fallback) {
    const double p = reader.number(key, fallback);
    if (!(p >= 0 && p <= 1)) {
      throw InputError(fmt::format("{}: must be in [0, 1], got {}", reader.path_of(key), p));
    }
    return p;
  };
  options.crossover_probability =
      probability("crossover_probability", options.crossover_probability);
  if (reader.has("mutation_probability")) {
    options.mutation_probability = probability("mutation_probability", 0);
  }
  for (auto [key, value] : {std::pair{"crossover_eta", &options.crossover_eta},
                            std::pair{"mutation_eta", &options.mutation_eta}}) {
    *value = reader.number(key, *value);
    if (!(*value >= 0 && *value <= 1000)) {
      throw InputError(
          fmt::format("{}: must be in [0, 1000], got {}", reader.path_of(key), *value));
    }
  }
  reader.reject_unknown_keys();
  return options;
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
  if (reader.has("trials")) budget.trials = reader.int_in("trials", 1, 10'000'000, {});
  if (const Json* wall = reader.find("wall_time")) {
    budget.wall_seconds = parse_duration(*wall, reader.path_of("wall_time"));
  }
  reader.reject_unknown_keys();
  return budget;
}

TpeOptions parse_tpe(const Json& body) {
  ObjectReader reader(body, "tpe");
  TpeOptions tpe;
  tpe.startup_trials = reader.int_in("startup_trials", 0, 1'000'000, tpe.startup_trials);
  tpe.candidates = reader.int_in("candidates", 1, 100'000, tpe.candidates);
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
  if (const Json* bandwidth = reader.find("bandwidth")) {
    if (*bandwidth == "scott") {
      tpe.bandwidth = TpeOptions::kScottBandwidth;
    } else if (bandwidth->is_number() && bandwidth->get<double>() > 0 &&
               bandwidth->get<double>() <= 1) {
      tpe.bandwidth = bandwidth->get<double>();
    } else {
      throw InputError(fmt::format(
          R"(tpe.bandwidth: must be "scott" or a number in (0, 1], got {})", bandwidth->dump()));
    }
  }
  tpe.multi_fidelity = reader.boolean("multi_fidelity", tpe.multi_fidelity);
  reader.reject_unknown_keys();
  return tpe;
}

// `resource`: "epochs" (the default) leaves the rule to its caller and returns false; "seconds"
// reads the rest of an ASHA rule (its mode already read) with rungs in seconds of training and
// returns true.
bool parse_stopping_resource(ObjectReader& reader, const std::string& type, EarlyStopping& rule) {
  const std::string resource = reader.string("resource", "epochs");
  if (resource == "epochs") {
    if (reader.has("min_seconds")) {
      throw InputError(
          "early_stopping.min_seconds: only used with \"resource\": \"seconds\" (rungs in "
          "epochs start at min_epochs)");
    }
    if (reader.has("report_deadline")) {
      throw InputError(
          "early_stopping.report_deadline: only used with \"resource\": \"seconds\" (with "
          "rungs in epochs every trial reports at each rung)");
    }
    return false;
  }
  if (resource != "seconds") {
    throw InputError(fmt::format(
        "early_stopping.resource: unknown resource \"{}\" (choose from epochs, seconds)",
        resource));
  }
  if (type != "asha") {
    throw InputError(
        "early_stopping.resource: \"seconds\" works with asha only (hyperband's brackets need a "
        "largest budget, which a time rung does not have)");
  }
  if (reader.has("min_epochs")) {
    throw InputError(
        "early_stopping.min_epochs: not used with \"resource\": \"seconds\"; the first rung is "
        "min_seconds");
  }
  if (rule.promotion) {
    throw InputError(
        "early_stopping.mode: \"promotion\" works with \"resource\": \"epochs\" only; with "
        "seconds, use \"mode\": \"stop\"");
  }
  rule.resource = StoppingResource::kSeconds;
  rule.min_seconds = reader.number("min_seconds");
  if (!(rule.min_seconds > 0 && rule.min_seconds < 1e7)) {
    throw InputError(
        fmt::format("early_stopping.min_seconds: must be a number of seconds in (0, 1e7), got {}",
                    rule.min_seconds));
  }
  rule.report_deadline = reader.boolean("report_deadline", false);
  return true;
}

// "ladder": "measured" (asha, promotion, epochs): its probes need somewhere to wait and two rungs
// to compare.
void parse_ladder(ObjectReader& reader, const std::string& type, int epochs, EarlyStopping& rule) {
  const std::string ladder = reader.string("ladder", "fixed");
  if (ladder != "fixed" && ladder != "measured") {
    throw InputError(fmt::format(
        "early_stopping.ladder: unknown ladder \"{}\" (choose from fixed, measured)", ladder));
  }
  rule.measured_ladder = ladder == "measured";
  rule.probe_trials = reader.int_in("probe_trials", 3, 10'000, rule.probe_trials);
  if (!rule.measured_ladder) {
    if (reader.has("probe_trials")) {
      throw InputError("early_stopping.probe_trials: only used with \"ladder\": \"measured\"");
    }
    return;
  }
  if (type != "asha" || !rule.promotion || rule.resource != StoppingResource::kEpochs) {
    throw InputError(
        "early_stopping.ladder: \"measured\" works with \"type\": \"asha\", \"mode\": "
        "\"promotion\" and rungs in epochs (its probe trials pause where they are measured)");
  }
  if (static_cast<int64_t>(rule.min_epochs) * rule.eta >= epochs) {
    throw InputError(fmt::format(
        "early_stopping.ladder: \"measured\" chooses among rungs below epoch {}, and min_epochs "
        "{} with eta {} gives only one",
        epochs, rule.min_epochs, rule.eta));
  }
}

EarlyStopping parse_early_stopping(const Json& body, int epochs) {
  ObjectReader reader(body, "early_stopping");
  EarlyStopping rule;
  const std::string type = reader.string("type");
  if (type == "none") {
    rule.rule = StoppingRule::kNone;
  } else if (type == "median") {
    rule.rule = StoppingRule::kMedian;
    rule.min_epochs = reader.int_in("min_epochs", 1, epochs, rule.min_epochs);
    rule.startup_trials = reader.int_in("startup_trials", 0, 1'000'000, rule.startup_trials);
  } else if (type == "asha" || type == "hyperband") {
    rule.rule = type == "asha" ? StoppingRule::kAsha : StoppingRule::kHyperband;
    rule.eta = reader.int_in("eta", 2, 100, rule.eta);
    const std::string mode = reader.string("mode", "stop");
    if (mode != "stop" && mode != "promotion") {
      throw InputError(fmt::format(
          "early_stopping.mode: unknown mode \"{}\" (choose from stop, promotion)", mode));
    }
    rule.promotion = mode == "promotion";
    if (!parse_stopping_resource(reader, type, rule)) {
      rule.min_epochs = reader.int_in("min_epochs", 1, 100000, rule.min_epochs);
      if (rule.min_epochs >= epochs) {
        throw InputError(fmt::format(
            "early_stopping.min_epochs: the first rung ({}) must come before the last epoch "
            "({}), or nothing is ever stopped",
            rule.min_epochs, epochs));
      }
    }
    parse_ladder(reader, type, epochs, rule);
  } else {
    throw InputError(fmt::format(
        "early_stopping.type: unknown rule \"{}\" (choose from none, median, asha, hyperband)",
        type));
  }
  reader.reject_unknown_keys();
  return rule;
}

// What a member may change between epochs and still be the same network on the same batches:
// optimizer settings, regularisation and augmentation strengths; never the architecture or the
// batch size.
const std::set<std::string>& mutable_trainer_parameters() {
  static const std::set<std::string> names = {
      "lr",    "momentum", "weight_decay", "dropout",  "label_smoothing", "grad_clip",
      "shift", "rotation", "brightness",   "contrast", "erasing"};
  return names;
}

void check_mutable_parameters(const SweepSpec& spec) {
  std::set<std::string> parents;
  for (const auto& p : spec.parameters) {
    for (const auto& c : p.when) parents.insert(c.parent);
  }
  int count = 0;
  for (const auto& p : spec.parameters) {
    if (!p.mutable_) continue;
    const std::string path = fmt::format("parameters.{}.mutable", p.name);
    if (spec.method != Method::kPbt) {
      throw InputError(path +
                       ": only Population Based Training (method \"pbt\") changes "
                       "parameters mid-trial");
    }
    if (spec.benchmark.is_null() && !mutable_trainer_parameters().contains(p.name)) {
      throw InputError(fmt::format("{}: {} is fixed for a member's life (mutable: {})", path,
                                   p.name, fmt::join(mutable_trainer_parameters(), ", ")));
    }
    if (p.distribution == Distribution::kValue) {
      throw InputError(path + ": a single \"value\" has nothing to change to");
    }
    if (parents.contains(p.name)) {
      throw InputError(path + ": other parameters depend on it; a condition's parent stays fixed");
    }
    ++count;
  }
  if (spec.method == Method::kPbt && count == 0) {
    throw InputError(
        "parameters: method \"pbt\" needs at least one parameter with "
        "\"mutable\": true");
  }
}

PbtOptions parse_pbt(const Json& body, int epochs) {
  ObjectReader reader(body, "pbt");
  PbtOptions pbt;
  pbt.population = reader.int_in("population", 2, 100'000, pbt.population);
  if (epochs < 2) throw InputError("epochs: PBT needs at least 2 epochs to perturb between");
  pbt.interval =
      reader.int_in("perturbation_interval", 1, epochs - 1, std::min(pbt.interval, epochs - 1));
  pbt.quantile = reader.number("quantile", pbt.quantile);
  if (!(pbt.quantile > 0 && pbt.quantile <= 0.5)) {
    throw InputError(
        fmt::format("{}: must be in (0, 0.5], got {}", reader.path_of("quantile"), pbt.quantile));
  }
  pbt.resample_probability = reader.number("resample_probability", pbt.resample_probability);
  if (!(pbt.resample_probability >= 0 && pbt.resample_probability <= 1)) {
    throw InputError(fmt::format("{}: must be in [0, 1], got {}",
                                 reader.path_of("resample_probability"), pbt.resample_probability));
  }
  reader.reject_unknown_keys();
  return pbt;
}

Method parse_method(const std::string& method) {
  if (method == "grid") return Method::kGrid;
  if (method == "random") return Method::kRandom;
  if (method == "sobol") return Method::kSobol;
  if (method == "tpe") return Method::kTpe;
  if (method == "pbt") return Method::kPbt;
  if (method == "nsga2") return Method::kNsga2;
  throw InputError(fmt::format(
      "method: unknown search method \"{}\" (choose from grid, random, sobol, tpe, nsga2, pbt)",
      method));
}

// `sources` and `grouping` values must name what the spec's data section defines.
std::function<std::string(const std::string&, const Json&)> with_data_checks(
    std::function<std::string(const std::string&, const Json&)> problem, const DataConfig& data) {
  return [problem = std::move(problem), data](const std::string& name, const Json& value) {
    if (std::string p = problem(name, value); !p.empty()) return p;
    if (name == "sources") {
      if (data.synthetic()) return std::string("needs named files in data.sources");
      for (const auto& source : value) {
        if (!data.sources.contains(source.get<std::string>())) {
          std::vector<std::string> known;
          for (const auto& [n, s] : data.sources) known.push_back(n);
          return fmt::format("unknown source {} (data.sources has {})", source.dump(),
                             fmt::join(known, ", "));
        }
      }
    }
    if (name == "grouping") {
      const std::string g = value.get<std::string>();
      const auto& builtin = builtin_grouping_names();
      if (std::find(builtin.begin(), builtin.end(), g) == builtin.end() &&
          !data.groupings.contains(g)) {
        std::vector<std::string> known = builtin;
        for (const auto& [n, c] : data.groupings) known.push_back(n);
        return fmt::format("unknown grouping \"{}\" (known: {})", g, fmt::join(known, ", "));
      }
    }
    return std::string();
  };
}

// Memory and latency are measured when an objective or a constraint names them, or "costs" asks.
CostRequest parse_costs(ObjectReader& top, const SweepSpec& spec) {
  std::set<std::string> named;
  for (const Objective& o : spec.objectives) named.insert(o.metric);
  for (const Constraint& c : spec.constraints) named.insert(c.metric);
  CostRequest request;
  request.memory = named.contains("train_memory_mb");
  request.latency = named.contains("inference_ms") || named.contains("batch_inference_ms");
  const Json* body = top.find("costs");
  if (!body) return request;
  if (!spec.benchmark.is_null()) {
    throw InputError("costs: a benchmark sweep trains no network to measure; remove it");
  }
  ObjectReader reader(*body, "costs");
  request.memory = reader.boolean("memory", request.memory);
  request.latency = reader.boolean("latency", request.latency);
  request.inference_batch = reader.int_in("inference_batch", 1, 4096, request.inference_batch);
  request.latency_repeats = reader.int_in("latency_repeats", 1, 1000, request.latency_repeats);
  reader.reject_unknown_keys();
  for (const auto& [name, needs] :
       {std::pair{"train_memory_mb", request.memory}, std::pair{"inference_ms", request.latency},
        std::pair{"batch_inference_ms", request.latency}}) {
    if (!needs && named.contains(name)) {
      throw InputError(
          fmt::format("costs: {} is an objective or a constraint; it must be measured", name));
    }
  }
  return request;
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
    case Method::kPbt:
      return "pbt";
    case Method::kNsga2:
      return "nsga2";
  }
  return "unknown";
}

std::string describe_objectives(const std::vector<Objective>& objectives) {
  std::vector<std::string> parts;
  for (const Objective& o : objectives) {
    parts.push_back(o.metric + (o.maximize ? ":maximize" : ":minimize"));
  }
  return fmt::format("{}", fmt::join(parts, ","));
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

namespace {

std::vector<Json> parse_initial_configs(const Json& list, const SweepSpec& spec) {
  if (!list.is_array()) {
    throw InputError(
        fmt::format("initial_configs: expected a list of configs, got {}", json_type_name(list)));
  }
  if (spec.method == Method::kGrid) {
    throw InputError("initial_configs: grid search runs every config of its grid already");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (auto why = misfit(spec.parameters, list[i], true)) {
      throw InputError(fmt::format("initial_configs[{}]: {}", i, *why));
    }
  }
  if (spec.budget.trials && list.size() > static_cast<size_t>(*spec.budget.trials)) {
    throw InputError(fmt::format("initial_configs: {} configs, more than budget.trials ({})",
                                 list.size(), *spec.budget.trials));
  }
  if (spec.method == Method::kPbt && list.size() > static_cast<size_t>(spec.pbt.population)) {
    throw InputError(fmt::format("initial_configs: {} configs, more than pbt.population ({})",
                                 list.size(), spec.pbt.population));
  }
  return list.get<std::vector<Json>>();
}

WarmStart parse_warm_start(const Json& object, const SweepSpec& spec) {
  ObjectReader reader(object, "warm_start");
  WarmStart warm;
  warm.db = reader.string("db");
  if (warm.db.empty()) throw InputError("warm_start.db: names no database");
  const Json& sweep = reader.required("sweep");
  if (sweep.is_string()) {
    warm.sweep_name = sweep.get<std::string>();
  } else {
    warm.sweep_id = expect_integer(sweep, "warm_start.sweep");
  }
  reader.reject_unknown_keys();
  if (spec.method == Method::kGrid || spec.method == Method::kRandom ||
      spec.method == Method::kSobol || spec.method == Method::kPbt) {
    throw InputError(fmt::format(
        "warm_start: method \"{}\" ignores earlier results; warm starts seed \"tpe\" or "
        "\"nsga2\"",
        to_string(spec.method)));
  }
  return warm;
}

}  // namespace

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
  spec.objectives = parse_objectives(vocabulary, top.required("metric"));
  spec.objective = spec.objectives.front();
  const bool several = spec.objectives.size() > 1;
  spec.epochs = top.int_in("epochs", 1, 100000, 5);
  const int64_t seed = top.integer("seed", 0);
  if (seed < 0) throw InputError(fmt::format("seed: must be >= 0, got {}", seed));
  spec.seed = static_cast<uint64_t>(seed);

  if (const Json* budget = top.find("budget")) spec.budget = parse_budget(*budget);
  const bool pbt = spec.method == Method::kPbt;
  if (pbt && spec.budget.trials) {
    throw InputError(
        "budget.trials: with method \"pbt\" the population is the trials; set "
        "pbt.population");
  }
  if (const Json* options = top.find("pbt")) {
    if (!pbt) throw InputError("pbt: only used with method \"pbt\"");
    spec.pbt = parse_pbt(*options, spec.epochs);
  } else if (pbt) {
    spec.pbt = parse_pbt(Json::object(), spec.epochs);
  }
  if (!spec.budget.trials && !spec.budget.wall_seconds && spec.method != Method::kGrid && !pbt) {
    throw InputError(fmt::format("budget: method \"{}\" needs \"trials\", \"wall_time\" or both",
                                 to_string(spec.method)));
  }
  if (several && pbt) {
    throw InputError("metric: PBT ranks its members by one objective; give one {name, goal}");
  }
  if (const Json* options = top.find("nsga2")) {
    if (spec.method != Method::kNsga2) throw InputError("nsga2: only used with method \"nsga2\"");
    spec.nsga2 = parse_nsga2(*options);
  }
  if (const Json* tpe = top.find("tpe")) {
    if (spec.method != Method::kTpe) throw InputError("tpe: only used with method \"tpe\"");
    spec.tpe = parse_tpe(*tpe);
  }
  if (const Json* rule = top.find("early_stopping")) {
    spec.early_stopping = parse_early_stopping(*rule, spec.epochs);
    if (pbt && spec.early_stopping.rule != StoppingRule::kNone) {
      throw InputError("early_stopping: PBT replaces its weak members itself; remove it");
    }
    if (several && spec.early_stopping.measured_ladder) {
      throw InputError(
          "early_stopping.ladder: \"measured\" compares one objective's rankings; with several "
          "use the fixed ladder");
    }
    if (several && (spec.early_stopping.rule == StoppingRule::kMedian ||
                    spec.early_stopping.rule == StoppingRule::kHyperband)) {
      throw InputError(fmt::format(
          "early_stopping.rule: \"{}\" compares one objective; with several use \"asha\" "
          "(ranked by non-dominated sorting)",
          to_string(spec.early_stopping.rule)));
    }
  }
  if (const Json* constraints = top.find("constraints")) {
    spec.constraints = parse_constraints(*constraints, "constraints", vocabulary.metrics);
    if (pbt) throw InputError("constraints: PBT's population trains every member; remove them");
  }
  spec.costs = parse_costs(top, spec);
  if (const Json* data = top.find("data")) spec.data = DataConfig::from_spec(*data, "data");
  for (const auto& [name, classes] : spec.data.groupings) {
    data::parse_grouping(name, classes, "data.groupings." + name);
  }
  if (spec.benchmark.is_null())
    vocabulary.problem = with_data_checks(vocabulary.problem, spec.data);
  if (const Json* resources = top.find("resources")) {
    ObjectReader reader(*resources, "resources");
    spec.threads_per_worker = reader.int_in("threads_per_worker", 0, 4096, 0);
    spec.memory_gb = reader.number("memory_gb", 0.0);
    if (spec.memory_gb < 0 || spec.memory_gb > 1e6) {
      throw InputError(fmt::format("{}: must be in [0, 1000000] GiB, got {}",
                                   reader.path_of("memory_gb"), spec.memory_gb));
    }
    spec.gpus_per_trial = reader.int_in("gpus_per_trial", 1, 1024, 1);
    spec.trials_per_gpu = reader.int_in("trials_per_gpu", 1, 64, 1);
    if (spec.trials_per_gpu > 1 && spec.gpus_per_trial > 1) {
      throw InputError(fmt::format(
          "{}: a trial spanning {} GPUs owns them; trials_per_gpu must then be 1, got {}",
          reader.path_of("trials_per_gpu"), spec.gpus_per_trial, spec.trials_per_gpu));
    }
    spec.precision =
        enum_from_name<Precision>(reader.string("precision", "fp32"), reader.path_of("precision"));
    spec.bucket_mb = reader.number("bucket_mb", 25.0);
    if (!(spec.bucket_mb > 0 && spec.bucket_mb <= 1024)) {
      throw InputError(fmt::format("{}: must be in (0, 1024] MiB, got {}",
                                   reader.path_of("bucket_mb"), spec.bucket_mb));
    }
    reader.reject_unknown_keys();
  }

  // A known function has nothing worth keeping, unless a test of continuation asks for it.
  // A paused trial continues from its training state: promotion needs one after every epoch.
  // PBT copies members' training states.
  const bool promotion = spec.early_stopping.promotion;
  spec.checkpoints = enum_from_name<CheckpointPolicy>(
      top.string("checkpoints",
                 spec.benchmark.is_null() || promotion || pbt ? "every_epoch" : "none"),
      "checkpoints");
  if ((promotion || pbt) && spec.checkpoints != CheckpointPolicy::kEveryEpoch) {
    throw InputError(fmt::format(
        "checkpoints: {} continues trials from their training state; it needs \"every_epoch\"",
        pbt ? "method \"pbt\"" : "early_stopping.mode \"promotion\""));
  }
  if (const Json* failures = top.find("failures")) {
    ObjectReader reader(*failures, "failures");
    spec.retries = reader.int_in("retries", 0, 100, 0);
    if (const Json* limit = reader.find("trial_time_limit")) {
      spec.trial_time_limit = parse_duration(*limit, reader.path_of("trial_time_limit"));
    }
    if (const Json* deadline = reader.find("progress_deadline")) {
      spec.progress_deadline = parse_duration(*deadline, reader.path_of("progress_deadline"));
    }
    reader.reject_unknown_keys();
  }

  spec.parameters = parse_parameters(vocabulary, top.required("parameters"));
  if (spec.method == Method::kGrid) {
    for (const auto& p : spec.parameters) {
      if (!p.is_discrete()) {
        throw InputError(fmt::format(
            "parameters.{}: grid search needs \"value\" or \"values\", not a distribution",
            p.name));
      }
    }
  }
  check_mutable_parameters(spec);
  if (const Json* initial = top.find("initial_configs")) {
    spec.initial_configs = parse_initial_configs(*initial, spec);
  }
  if (const Json* warm = top.find("warm_start")) spec.warm_start = parse_warm_start(*warm, spec);
  top.reject_unknown_keys();
  return spec;
}

SweepSpec load_spec_file(const std::string& path) {
  const std::optional<std::string> text = file_text(path);
  if (!text) throw InputError(fmt::format("{}: cannot open spec file", path));
  const Json document = parse_json(*text, path);
  try {
    return parse_spec(document);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace fersweep::search
