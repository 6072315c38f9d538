#pragma once
// `fersweep results pareto`: a sweep's non-dominated finished trials over several objectives,
// with the hypervolume they dominate. The objectives are the sweep's own when it has several,
// or any final metrics (and the trial's param_count) named on the command line.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/queries.h"

namespace fersweep::results {

struct FrontObjective {
  std::string metric;
  bool maximize = true;
};

// The objectives a sweep's spec declares ("metric": one object or a list), in order.
std::vector<FrontObjective> sweep_objectives(const SweepSummary& sweep);
// "val_macro_f1:max,param_count:min" (max/maximize, min/minimize); InputError naming `option`.
std::vector<FrontObjective> parse_front_objectives(const std::string& text,
                                                   const std::string& option);

// A trial's value of `metric`: a final metric, or param_count (when it was counted).
std::optional<double> objective_value(const TrialSummary& trial, const std::string& metric);

struct ParetoFront {
  std::vector<FrontObjective> objectives;
  std::vector<TrialSummary> front;  // ordered by the first objective, best first
  size_t considered = 0;            // finished trials that had every objective
  std::vector<double> reference;    // in the objectives' own units
  double hypervolume = 0;           // of the front, in the objectives' own units
  bool reference_given = false;
};

// `reference`: the hypervolume's reference point in the objectives' units; by default just
// beyond the worst value of each objective among the considered trials.
ParetoFront pareto_front(const std::vector<TrialSummary>& trials,
                         const std::vector<FrontObjective>& objectives,
                         const std::optional<std::vector<double>>& reference);

// The hypervolume of the front of the first k considered trials (in trial order) for every k,
// against `front`'s reference point: (trial number, hypervolume).
std::vector<std::pair<int, double>> hypervolume_history(const std::vector<TrialSummary>& trials,
                                                        const ParetoFront& front);

// A multi-objective sweep's figures: a scatter for each pair of objectives (the front coloured,
// dominated trials grey) and the hypervolume against trials, as (file name, SVG).
std::vector<std::pair<std::string, std::string>> pareto_figures(
    const std::vector<TrialSummary>& trials, const std::vector<FrontObjective>& objectives);

std::string pareto_table(const SweepSummary& sweep, const ParetoFront& front);
nlohmann::json pareto_json(const SweepSummary& sweep, const ParetoFront& front);

}  // namespace fersweep::results
