#include "results/pareto_front.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/pareto.h"
#include "common/text.h"
#include "results/svg.h"
#include "results/tables.h"

namespace fersweep::results {
namespace {

// Minimised coordinates: maximised objectives change sign.
ObjectiveVector minimised(const std::vector<double>& values,
                          const std::vector<FrontObjective>& objectives) {
  ObjectiveVector out(values.size());
  for (size_t m = 0; m < values.size(); ++m) {
    out[m] = objectives[m].maximize ? -values[m] : values[m];
  }
  return out;
}

std::optional<std::vector<double>> values_of(const TrialSummary& trial,
                                             const std::vector<FrontObjective>& objectives) {
  std::vector<double> values;
  for (const FrontObjective& o : objectives) {
    const std::optional<double> value = objective_value(trial, o.metric);
    if (!value || !std::isfinite(*value)) return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

std::string goal_word(bool maximize) {
  return maximize ? "maximize" : "minimize";
}

}  // namespace

std::vector<FrontObjective> sweep_objectives(const SweepSummary& sweep) {
  const nlohmann::json metric = sweep.spec.value("metric", nlohmann::json());
  std::vector<FrontObjective> objectives;
  for (const nlohmann::json& o : metric.is_array() ? metric : nlohmann::json::array({metric})) {
    if (o.is_object() && o.contains("name") && o["name"].is_string()) {
      objectives.push_back({o["name"], o.value("goal", "maximize") == "maximize"});
    }
  }
  if (objectives.empty()) objectives.push_back({sweep.metric, sweep.maximize});
  return objectives;
}

std::vector<FrontObjective> parse_front_objectives(const std::string& text,
                                                   const std::string& option) {
  std::vector<FrontObjective> objectives;
  for (const std::string& item : split(text, ',')) {
    const size_t colon = item.rfind(':');
    const std::string name = item.substr(0, colon);
    const std::string goal = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (name.empty() ||
        (goal != "max" && goal != "maximize" && goal != "min" && goal != "minimize")) {
      throw InputError(fmt::format("{}: expected NAME:max or NAME:min, comma-separated, got \"{}\"",
                                   option, item));
    }
    for (const FrontObjective& o : objectives) {
      if (o.metric == name) throw InputError(fmt::format("{}: {} is named twice", option, name));
    }
    objectives.push_back({name, goal.starts_with("max")});
  }
  if (objectives.size() < 2) {
    throw InputError(
        fmt::format("{}: a Pareto front needs at least two objectives, got \"{}\"", option, text));
  }
  return objectives;
}

std::optional<double> objective_value(const TrialSummary& trial, const std::string& metric) {
  if (const auto it = trial.metrics.find(metric); it != trial.metrics.end()) return it->second;
  if (metric == "param_count" && trial.param_count > 0) {
    return static_cast<double>(trial.param_count);
  }
  return std::nullopt;
}

ParetoFront pareto_front(const std::vector<TrialSummary>& trials,
                         const std::vector<FrontObjective>& objectives,
                         const std::optional<std::vector<double>>& reference) {
  ParetoFront result;
  result.objectives = objectives;
  std::vector<const TrialSummary*> considered;
  std::vector<ObjectiveVector> points;
  for (const TrialSummary& t : trials) {
    if (t.status != TrialStatus::kFinished) continue;
    if (const auto values = values_of(t, objectives)) {
      considered.push_back(&t);
      points.push_back(minimised(*values, objectives));
    }
  }
  result.considered = considered.size();
  if (reference && reference->size() != objectives.size()) {
    throw InputError(fmt::format("--reference: expected {} values (one per objective), got {}",
                                 objectives.size(), reference->size()));
  }
  if (points.empty()) return result;
  const ObjectiveVector minimised_reference =
      reference ? minimised(*reference, objectives) : reference_beyond(points);
  result.reference_given = reference.has_value();
  result.reference = minimised(minimised_reference, objectives);  // the sign flip is its inverse
  std::vector<size_t> front = nondominated_fronts(points).front();
  std::stable_sort(front.begin(), front.end(),
                   [&](size_t a, size_t b) { return points[a][0] < points[b][0]; });
  std::vector<ObjectiveVector> front_points;
  for (size_t i : front) {
    result.front.push_back(*considered[i]);
    front_points.push_back(points[i]);
  }
  result.hypervolume = hypervolume(front_points, minimised_reference);
  return result;
}

std::vector<std::pair<int, double>> hypervolume_history(const std::vector<TrialSummary>& trials,
                                                        const ParetoFront& front) {
  std::vector<std::pair<int, double>> history;
  if (front.reference.empty()) return history;
  const ObjectiveVector reference = minimised(front.reference, front.objectives);
  std::vector<const TrialSummary*> ordered;
  for (const TrialSummary& t : trials) ordered.push_back(&t);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->number < b->number; });
  std::vector<ObjectiveVector> current;  // the front so far
  double volume = 0;
  for (const TrialSummary* t : ordered) {
    if (t->status != TrialStatus::kFinished) continue;
    const auto values = values_of(*t, front.objectives);
    if (!values) continue;
    const ObjectiveVector point = minimised(*values, front.objectives);
    const bool dominated = std::any_of(current.begin(), current.end(), [&](const auto& p) {
      return dominates(p, point) || p == point;
    });
    if (!dominated) {
      std::erase_if(current, [&](const ObjectiveVector& p) { return dominates(point, p); });
      current.push_back(point);
      volume = hypervolume(current, reference);
    }
    history.emplace_back(t->number, volume);
  }
  return history;
}

std::vector<std::pair<std::string, std::string>> pareto_figures(
    const std::vector<TrialSummary>& trials, const std::vector<FrontObjective>& objectives) {
  const ParetoFront front = pareto_front(trials, objectives, std::nullopt);
  std::vector<std::pair<std::string, std::string>> figures;
  if (front.considered == 0) return figures;
  std::set<int64_t> on_front;
  for (const TrialSummary& t : front.front) on_front.insert(t.id);
  for (size_t a = 0; a < objectives.size(); ++a) {
    for (size_t b = a + 1; b < objectives.size(); ++b) {
      std::vector<double> x, y;
      std::vector<bool> flags;
      std::vector<std::string> names;
      for (const TrialSummary& t : trials) {
        if (t.status != TrialStatus::kFinished || !values_of(t, objectives)) continue;
        x.push_back(*objective_value(t, objectives[a].metric));
        y.push_back(*objective_value(t, objectives[b].metric));
        flags.push_back(on_front.contains(t.id));
        names.push_back(std::to_string(t.id));
      }
      figures.emplace_back(
          fmt::format("pareto_{}_{}.svg", objectives[a].metric, objectives[b].metric),
          svg::pareto_scatter(x, y, flags, names, objectives[a].metric, objectives[b].metric));
    }
  }
  svg::Series series{"hypervolume", {}, {}};
  for (const auto& [number, volume] : hypervolume_history(trials, front)) {
    series.x.push_back(number);
    series.y.push_back(volume);
  }
  figures.emplace_back("hypervolume.svg", svg::line_chart({series}, "trial", "hypervolume"));
  return figures;
}

std::string pareto_table(const SweepSummary& sweep, const ParetoFront& f) {
  std::vector<std::string> goals;
  for (const FrontObjective& o : f.objectives)
    goals.push_back(goal_word(o.maximize) + " " + o.metric);
  std::string out = fmt::format("sweep {} \"{}\": Pareto front of {}\n", sweep.id, sweep.name,
                                fmt::join(goals, ", "));
  if (f.front.empty()) return out + "no finished trial has every objective yet\n";
  out += fmt::format(
      "{} of {} finished trials are non-dominated; hypervolume {:.6g} (reference {}{})\n",
      f.front.size(), f.considered, f.hypervolume,
      fmt::format("{:.6g}", fmt::join(f.reference, ", ")),
      f.reference_given ? "" : ": 1.1x beyond the worst of each");
  out += fmt::format("{:>5}", "trial");
  for (const FrontObjective& o : f.objectives)
    out += fmt::format(" {:>12}", o.metric.substr(0, 12));
  out += fmt::format(" {:>10}  {}\n", "params", "parameters");
  const auto varying = varying_parameters(f.front);
  const size_t indent = 5 + 13 * f.objectives.size() + 13;
  for (const TrialSummary& t : f.front) {
    out += fmt::format("{:>5}", t.id);
    for (const FrontObjective& o : f.objectives) {
      out += fmt::format(" {:>12.6g}", objective_value(t, o.metric).value_or(NAN));
    }
    out += fmt::format(" {:>10}  {}\n", t.param_count > 0 ? std::to_string(t.param_count) : "-",
                       wrap_column(params_text(t.params, varying), indent));
  }
  return out;
}

nlohmann::json pareto_json(const SweepSummary& sweep, const ParetoFront& f) {
  nlohmann::json objectives = nlohmann::json::array();
  for (const FrontObjective& o : f.objectives) {
    objectives.push_back({{"name", o.metric}, {"goal", goal_word(o.maximize)}});
  }
  nlohmann::json front = nlohmann::json::array();
  for (const TrialSummary& t : f.front) {
    nlohmann::json values = nlohmann::json::object();
    for (const FrontObjective& o : f.objectives) values[o.metric] = *objective_value(t, o.metric);
    front.push_back({{"trial", t.id},
                     {"number", t.number},
                     {"values", values},
                     {"metrics", t.metrics},
                     {"params", t.params},
                     {"param_count", t.param_count},
                     {"epochs_completed", t.epochs_completed},
                     {"wall_seconds", t.wall_seconds}});
  }
  return {{"sweep", {{"id", sweep.id}, {"name", sweep.name}, {"status", to_string(sweep.status)}}},
          {"objectives", objectives},
          {"considered", f.considered},
          {"reference", f.reference},
          {"reference_given", f.reference_given},
          {"hypervolume", f.hypervolume},
          {"front", front}};
}

}  // namespace fersweep::results
