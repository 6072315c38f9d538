#include "common/trial.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;

std::string positive_int_list_problem(const Json& v, bool allow_empty) {
  if (!v.is_array()) return "expected a list of positive integers, got " + json_type_name(v);
  if (v.empty() && !allow_empty) return "expected a non-empty list";
  for (const auto& e : v) {
    if (!e.is_number_integer() || e.get<int64_t>() <= 0 || e.get<int64_t>() > 65536) {
      return "every entry must be an integer in [1, 65536], got " + e.dump();
    }
  }
  return "";
}

std::string int_range_problem(const Json& v, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) return "expected an integer, got " + json_type_name(v);
  const auto x = v.get<int64_t>();
  if (x < lo || x > hi) return fmt::format("must be in [{}, {}], got {}", lo, hi, x);
  return "";
}

std::string number_range_problem(const Json& v, double lo, double hi, bool hi_open) {
  if (!v.is_number()) return "expected a number, got " + json_type_name(v);
  const double x = v.get<double>();
  if (x < lo || x > hi || (hi_open && x == hi)) {
    return fmt::format("must be in [{}, {}{}, got {}", lo, hi, hi_open ? ")" : "]", x);
  }
  return "";
}

std::string choice_problem(const Json& v, std::initializer_list<const char*> choices) {
  std::string all;
  for (const char* c : choices) all += (all.empty() ? "" : ", ") + std::string(c);
  if (!v.is_string()) return "expected one of " + all + ", got " + json_type_name(v);
  for (const char* c : choices) {
    if (v.get<std::string>() == c) return "";
  }
  return fmt::format("unknown value {} (choose from {})", v.dump(), all);
}

template <NamedEnum E>
std::string enum_problem(const Json& v) {
  if (!v.is_string()) return "expected one of " + enum_choices<E>() + ", got " + json_type_name(v);
  if (enum_from_name<E>(v.get<std::string>())) return "";
  return fmt::format("unknown value {} (choose from {})", v.dump(), enum_choices<E>());
}

template <NamedEnum E>
E enum_value(const Json& v) {
  return *enum_from_name<E>(v.get<std::string>());
}

std::string bool_problem(const Json& v) {
  return v.is_boolean() ? "" : "expected true or false, got " + json_type_name(v);
}

struct ParameterRule {
  const char* name;
  std::function<std::string(const Json&)> problem;
  std::function<void(TrialConfig&, const Json&)> apply;
};

std::string architecture_problem(const Json& v) {
  const auto& names = architecture_names();
  if (v.is_string() && std::find(names.begin(), names.end(), v.get<std::string>()) != names.end()) {
    return "";
  }
  return fmt::format("unknown architecture {} (choose from {})", v.dump(), fmt::join(names, ", "));
}

std::string source_list_problem(const Json& v) {
  if (!v.is_array() || v.empty()) return "expected a non-empty list of source names";
  std::set<std::string> seen;
  for (const auto& e : v) {
    if (!e.is_string()) return "every entry must be a source name, got " + e.dump();
    if (!seen.insert(e.get<std::string>()).second) return "source " + e.dump() + " listed twice";
  }
  return "";
}

const std::vector<ParameterRule>& rules() {
  using C = TrialConfig;
  static const std::vector<ParameterRule> table = {
      {"sources", source_list_problem,
       [](C& c, const Json& v) { c.sources = v.get<std::vector<std::string>>(); }},
      {"grouping",
       [](const Json& v) {
         return v.is_string() ? "" : "expected a grouping name, got " + json_type_name(v);
       },
       [](C& c, const Json& v) { c.grouping = v.get<std::string>(); }},
      {"crop",
       [](const Json& v) {
         return choice_problem(v, {"none", "face"});
       },
       [](C& c, const Json& v) { c.crop = v.get<std::string>(); }},
      {"arch", architecture_problem, [](C& c, const Json& v) { c.arch = v.get<std::string>(); }},
      {"stem",
       [](const Json& v) {
         return choice_problem(v, {"imagenet", "small"});
       },
       [](C& c, const Json& v) { c.stem = v.get<std::string>(); }},
      {"filters", [](const Json& v) { return positive_int_list_problem(v, false); },
       [](C& c, const Json& v) { c.filters = v.get<std::vector<int>>(); }},
      {"convs_per_block", [](const Json& v) { return int_range_problem(v, 1, 8); },
       [](C& c, const Json& v) { c.convs_per_block = v.get<int>(); }},
      {"batch_norm", bool_problem, [](C& c, const Json& v) { c.batch_norm = v.get<bool>(); }},
      {"dense", [](const Json& v) { return positive_int_list_problem(v, true); },
       [](C& c, const Json& v) { c.dense = v.get<std::vector<int>>(); }},
      {"dense_batch_norm", bool_problem,
       [](C& c, const Json& v) { c.dense_batch_norm = v.get<bool>(); }},
      {"dropout", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, true); },
       [](C& c, const Json& v) { c.dropout = v.get<double>(); }},
      {"width_multiplier", [](const Json& v) { return number_range_problem(v, 0.1, 4.0, false); },
       [](C& c, const Json& v) { c.width_multiplier = v.get<double>(); }},
      {"stochastic_depth", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, true); },
       [](C& c, const Json& v) { c.stochastic_depth = v.get<double>(); }},
      {"batch_size", [](const Json& v) { return int_range_problem(v, 1, 1 << 16); },
       [](C& c, const Json& v) { c.batch_size = v.get<int>(); }},
      {"lr", [](const Json& v) { return number_range_problem(v, 1e-12, 10.0, false); },
       [](C& c, const Json& v) { c.lr = v.get<double>(); }},
      {"optimizer", enum_problem<Optimizer>,
       [](C& c, const Json& v) { c.optimizer = enum_value<Optimizer>(v); }},
      {"momentum", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, true); },
       [](C& c, const Json& v) { c.momentum = v.get<double>(); }},
      {"nesterov", bool_problem, [](C& c, const Json& v) { c.nesterov = v.get<bool>(); }},
      {"weight_decay", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, false); },
       [](C& c, const Json& v) { c.weight_decay = v.get<double>(); }},
      {"label_smoothing", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, true); },
       [](C& c, const Json& v) { c.label_smoothing = v.get<double>(); }},
      {"grad_clip", [](const Json& v) { return number_range_problem(v, 0.0, 1e6, false); },
       [](C& c, const Json& v) { c.grad_clip = v.get<double>(); }},
      {"schedule", enum_problem<Schedule>,
       [](C& c, const Json& v) { c.schedule = enum_value<Schedule>(v); }},
      {"warmup_epochs", [](const Json& v) { return int_range_problem(v, 0, 10000); },
       [](C& c, const Json& v) { c.warmup_epochs = v.get<int>(); }},
      {"step_size", [](const Json& v) { return int_range_problem(v, 1, 10000); },
       [](C& c, const Json& v) { c.step_size = v.get<int>(); }},
      {"lr_decay", [](const Json& v) { return number_range_problem(v, 1e-6, 1.0, false); },
       [](C& c, const Json& v) { c.lr_decay = v.get<double>(); }},
      {"plateau_patience", [](const Json& v) { return int_range_problem(v, 0, 10000); },
       [](C& c, const Json& v) { c.plateau_patience = v.get<int>(); }},
      {"min_lr", [](const Json& v) { return number_range_problem(v, 0.0, 10.0, false); },
       [](C& c, const Json& v) { c.min_lr = v.get<double>(); }},
      {"augment", bool_problem, [](C& c, const Json& v) { c.augment = v.get<bool>(); }},
      {"flip", bool_problem, [](C& c, const Json& v) { c.flip = v.get<bool>(); }},
      {"shift", [](const Json& v) { return int_range_problem(v, 0, 64); },
       [](C& c, const Json& v) { c.shift = v.get<int>(); }},
      {"rotation", [](const Json& v) { return number_range_problem(v, 0.0, 180.0, false); },
       [](C& c, const Json& v) { c.rotation = v.get<double>(); }},
      {"brightness", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, false); },
       [](C& c, const Json& v) { c.brightness = v.get<double>(); }},
      {"contrast", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, false); },
       [](C& c, const Json& v) { c.contrast = v.get<double>(); }},
      {"erasing", [](const Json& v) { return number_range_problem(v, 0.0, 1.0, false); },
       [](C& c, const Json& v) { c.erasing = v.get<double>(); }},
      {"class_balance", enum_problem<ClassBalance>,
       [](C& c, const Json& v) { c.class_balance = enum_value<ClassBalance>(v); }},
  };
  return table;
}

const ParameterRule* find_rule(const std::string& name) {
  for (const auto& rule : rules()) {
    if (name == rule.name) return &rule;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& architecture_names() {
  static const std::vector<std::string> names = {
      "vgg_custom", "vgg16", "resnet18", "resnet34", "resnet50", "mobilenet_v2", "efficientnet_b0"};
  return names;
}

const std::vector<std::string>& TrialConfig::parameter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& rule : rules()) out.emplace_back(rule.name);
    return out;
  }();
  return names;
}

std::string TrialConfig::parameter_problem(const std::string& name, const Json& value) {
  const ParameterRule* rule = find_rule(name);
  if (!rule) {
    return fmt::format("unknown parameter (known: {})", fmt::join(parameter_names(), ", "));
  }
  return rule->problem(value);
}

TrialConfig TrialConfig::from_params(const Json& params) {
  if (!params.is_object()) throw InputError("parameters: expected an object");
  TrialConfig config;
  for (const auto& [name, value] : params.items()) {
    if (auto problem = parameter_problem(name, value); !problem.empty()) {
      throw InputError(fmt::format("parameters.{}: {}", name, problem));
    }
    find_rule(name)->apply(config, value);
  }
  return config;
}

bool is_judged(TrialStatus status) {
  return status == TrialStatus::kFinished || status == TrialStatus::kPruned ||
         status == TrialStatus::kFailed || status == TrialStatus::kInfeasible;
}

std::optional<std::string> non_finite_metric(const std::map<std::string, double>& values) {
  for (const auto& [name, value] : values) {
    if (!std::isfinite(value)) return fmt::format("{} is {}", name, value);
  }
  return std::nullopt;
}

void mark_infeasible(TrialResult& result, const ConstraintCheck& check, std::string_view when) {
  result.status = TrialStatus::kInfeasible;
  result.error = fmt::format("infeasible {}: {}", when, check.reason);
  result.final_metrics[kViolationMetric] = check.violation;
}

namespace {

// A config refused before training: its costs are its only metrics.
TrialResult infeasible_before_training(const TrialAssignment& assignment,
                                       std::map<std::string, double> costs,
                                       const ConstraintCheck& check) {
  TrialResult result;
  result.trial_id = assignment.trial_id;
  result.final_metrics = std::move(costs);
  if (auto it = result.final_metrics.find("param_count"); it != result.final_metrics.end()) {
    result.param_count = static_cast<int64_t>(it->second);
  }
  mark_infeasible(result, check, "before training");
  return result;
}

}  // namespace

TrialResult run_trial(TrialRunner& runner, const TrialAssignment& assignment,
                      const EpochCallback& on_epoch, bool enforce_time_limit) {
  int epochs_reported = 0;                      // so that a failure records the epoch it reached
  std::map<std::string, double> last_reported;  // its metrics there, costs included
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, double> costs;
  try {
    costs = assignment.costs ? *assignment.costs : runner.measure_costs(assignment);
    if (const ConstraintCheck check = check_constraints(assignment.constraints, costs);
        !check.feasible()) {
      return infeasible_before_training(assignment, costs, check);
    }
    TrialResult result = runner.run(assignment, [&](const EpochMetrics& epoch) {
      // A net that diverged in an epoch's last steps: its metrics are no result to store or rank.
      if (const auto bad = non_finite_metric(epoch.values)) {
        throw std::runtime_error(fmt::format("diverged: {} after epoch {}", *bad, epoch.epoch));
      }
      epochs_reported = epoch.epoch;
      EpochMetrics with_costs = epoch;
      with_costs.values.insert(costs.begin(), costs.end());
      last_reported = with_costs.values;
      const EpochVerdict verdict = on_epoch(with_costs);
      if (!enforce_time_limit) return verdict;
      if (auto error = time_limit_exceeded(assignment, start, epoch.epoch)) {
        throw std::runtime_error(*error);
      }
      return verdict;
    });
    result.trial_id = assignment.trial_id;
    if (const auto bad = non_finite_metric(result.final_metrics)) {
      throw std::runtime_error(fmt::format("diverged: {} at the end of the trial", *bad));
    }
    result.final_metrics.insert(costs.begin(), costs.end());
    return result;
  } catch (const ReportOverdue& e) {
    // Stopped by the early-stopping rule, not broken: it ranks with what it last reported.
    TrialResult stopped;
    stopped.trial_id = assignment.trial_id;
    stopped.status = TrialStatus::kPruned;
    stopped.error = e.what();
    stopped.epochs_completed = epochs_reported;
    stopped.final_metrics = epochs_reported > 0 ? last_reported : costs;
    stopped.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stopped;
  } catch (const std::exception& e) {
    TrialResult failed;
    failed.trial_id = assignment.trial_id;
    failed.status = TrialStatus::kFailed;
    failed.error = e.what();
    failed.epochs_completed = epochs_reported;
    failed.final_metrics = costs;  // what it would have cost, when that was measured
    return failed;
  }
}

std::optional<std::string> report_overdue(int epoch, double epoch_seconds, double allowance) {
  if (allowance <= 0 || epoch_seconds <= allowance) return std::nullopt;
  return fmt::format(
      "stopped: epoch {} ran {:.3g} s without reporting, past the {:.3g} s it had before the next "
      "rung (early_stopping.report_deadline)",
      epoch, epoch_seconds, allowance);
}

std::optional<std::string> time_limit_exceeded(const TrialAssignment& assignment,
                                               std::chrono::steady_clock::time_point start,
                                               int epoch) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (assignment.time_limit_seconds <= 0 || elapsed <= assignment.time_limit_seconds) {
    return std::nullopt;
  }
  return fmt::format(
      "trial time limit: {:.1f} s elapsed at epoch {}, failures.trial_time_limit is {} s", elapsed,
      epoch, assignment.time_limit_seconds);
}

const std::vector<std::string>& epoch_metric_names() {
  static const std::vector<std::string> names = {"train_loss", "train_accuracy", "val_loss",
                                                 "val_accuracy", "val_macro_f1"};
  return names;
}

std::optional<double> EpochMetrics::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

void to_json(Json& out, const StateRef& s) {
  out = {{"path", s.path}, {"epoch", s.epoch}, {"digest", s.digest}};
}

void from_json(const Json& in, StateRef& s) {
  in.at("path").get_to(s.path);
  in.at("epoch").get_to(s.epoch);
  in.at("digest").get_to(s.digest);
}

void to_json(Json& out, const TrialAssignment& a) {
  out = {{"trial_id", a.trial_id},
         {"number", a.number},
         {"params", a.params},
         {"epochs", a.epochs},
         {"seed", a.seed},
         {"data", a.data},
         {"threads", a.threads},
         {"benchmark", a.benchmark},
         {"memory_gb", a.memory_gb},
         {"time_limit_seconds", a.time_limit_seconds},
         {"report_allowance_seconds", a.report_allowance_seconds},
         {"bucket_mb", a.bucket_mb},
         {"precision", to_string(a.precision)},
         {"checkpoint_dir", a.checkpoint_dir},
         {"objective_metric", a.objective_metric},
         {"maximize", a.maximize},
         {"state_dir", a.state_dir},
         {"run", a.run},
         {"resume", a.resume},
         {"constraints", a.constraints},
         {"cost_request", a.cost_request}};
  if (a.costs) out["costs"] = *a.costs;
}

void from_json(const Json& in, TrialAssignment& a) {
  in.at("trial_id").get_to(a.trial_id);
  in.at("number").get_to(a.number);
  a.params = in.at("params");
  in.at("epochs").get_to(a.epochs);
  in.at("seed").get_to(a.seed);
  in.at("data").get_to(a.data);
  in.at("threads").get_to(a.threads);
  a.benchmark = in.value("benchmark", Json());
  in.at("memory_gb").get_to(a.memory_gb);
  in.at("time_limit_seconds").get_to(a.time_limit_seconds);
  a.report_allowance_seconds = in.value("report_allowance_seconds", 0.0);
  a.bucket_mb = in.value("bucket_mb", 25.0);
  a.precision = enum_from_name<Precision>(in.at("precision").get<std::string>(), "precision");
  in.at("checkpoint_dir").get_to(a.checkpoint_dir);
  in.at("objective_metric").get_to(a.objective_metric);
  in.at("maximize").get_to(a.maximize);
  in.at("state_dir").get_to(a.state_dir);
  in.at("run").get_to(a.run);
  in.at("resume").get_to(a.resume);
  in.at("constraints").get_to(a.constraints);
  in.at("cost_request").get_to(a.cost_request);
  if (in.contains("costs")) a.costs = in.at("costs").get<std::map<std::string, double>>();
}

void to_json(Json& out, const EpochMetrics& e) {
  out = {
      {"trial_id", e.trial_id}, {"epoch", e.epoch}, {"seconds", e.seconds}, {"values", e.values}};
  if (!e.state.empty()) out["state"] = e.state;
}

void from_json(const Json& in, EpochMetrics& e) {
  in.at("trial_id").get_to(e.trial_id);
  in.at("epoch").get_to(e.epoch);
  in.at("seconds").get_to(e.seconds);
  in.at("values").get_to(e.values);
  if (in.contains("state")) in.at("state").get_to(e.state);
}

void to_json(Json& out, const TrialResult& r) {
  out = {{"trial_id", r.trial_id},
         {"status", to_string(r.status)},
         {"error", r.error},
         {"epochs_completed", r.epochs_completed},
         {"class_names", r.class_names},
         {"confusion", r.confusion},
         {"per_class", r.per_class},
         {"final_metrics", r.final_metrics},
         {"wall_seconds", r.wall_seconds},
         {"images_per_second", r.images_per_second},
         {"param_count", r.param_count},
         {"checkpoint", r.checkpoint}};
}

void from_json(const Json& in, TrialResult& r) {
  in.at("trial_id").get_to(r.trial_id);
  r.status = enum_from_name<TrialStatus>(in.at("status").get<std::string>(), "status");
  in.at("error").get_to(r.error);
  in.at("epochs_completed").get_to(r.epochs_completed);
  in.at("class_names").get_to(r.class_names);
  in.at("confusion").get_to(r.confusion);
  in.at("per_class").get_to(r.per_class);
  in.at("final_metrics").get_to(r.final_metrics);
  in.at("wall_seconds").get_to(r.wall_seconds);
  in.at("images_per_second").get_to(r.images_per_second);
  in.at("param_count").get_to(r.param_count);
  in.at("checkpoint").get_to(r.checkpoint);
}

}  // namespace fersweep
