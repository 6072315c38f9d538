#include "coordinator/warm_start.h"

#include <map>
#include <optional>

#include <fmt/format.h>

#include "common/constraints.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "results/queries.h"
#include "search_spaces/known_configs.h"

namespace fersweep::coordinator {
namespace {

results::SweepSummary warm_start_sweep(const results::Reader& reader, const search::WarmStart& warm,
                                       const std::string& where) {
  if (warm.sweep_id) {
    if (auto found = reader.find_sweep(*warm.sweep_id, false)) return *found;
    throw InputError(fmt::format("{}.sweep: {} has no sweep {}", where, warm.db, *warm.sweep_id));
  }
  std::optional<results::SweepSummary> newest;
  for (const results::SweepSummary& s : reader.sweeps()) {
    if (s.name == warm.sweep_name) newest = s;
  }
  if (!newest) {
    throw InputError(
        fmt::format("{}.sweep: {} has no sweep named \"{}\"", where, warm.db, warm.sweep_name));
  }
  return *newest;
}

// Counts what was dropped, by reason, keeping one example of each.
struct Dropped {
  std::map<std::string, std::pair<int, std::string>> by_reason;
  void add(const std::string& reason, const std::string& example) {
    auto& [count, first] = by_reason[reason];
    if (count++ == 0) first = example;
  }
  int total() const {
    int n = 0;
    for (const auto& [reason, entry] : by_reason) n += entry.first;
    return n;
  }
};

}  // namespace

WarmStartEvidence load_warm_start(const search::SweepSpec& spec, const std::string& spec_path) {
  const search::WarmStart& warm = *spec.warm_start;
  const std::string where = spec_path + ": warm_start";
  const results::Reader reader = [&] {
    try {
      return results::Reader(warm.db);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}.db: {}", where, e.what()));
    }
  }();
  const results::SweepSummary source = warm_start_sweep(reader, warm, where);
  WarmStartEvidence evidence;
  Dropped dropped;
  int with_objectives = 0;
  for (const results::TrialSummary& t : reader.trials(source.id)) {
    if (t.status != TrialStatus::kFinished && t.status != TrialStatus::kPruned &&
        t.status != TrialStatus::kInfeasible) {
      continue;  // failed, interrupted, still running: no evidence about the config
    }
    const std::string name = fmt::format("trial #{}", t.number);
    if (auto why = search::misfit(spec.parameters, t.params, false)) {
      dropped.add("outside this sweep's space", fmt::format("{}: {}", name, *why));
      continue;
    }
    results::PriorTrial prior;
    prior.source = fmt::format("{}: sweep {}, {}", warm.db, source.id, name);
    prior.params = t.params;
    prior.epochs = t.epochs_completed;
    // Judged by this sweep's constraints, not the earlier one's.
    const ConstraintCheck check = check_constraints(spec.constraints, t.metrics);
    for (const search::Objective& o : spec.objectives) {
      if (auto it = t.metrics.find(o.metric); it != t.metrics.end()) {
        prior.objectives.push_back(it->second);
      }
    }
    const bool complete = prior.objectives.size() == spec.objectives.size();
    if (complete) ++with_objectives;
    if (!check.feasible()) {
      prior.status = TrialStatus::kInfeasible;
      prior.violation = check.violation;
    } else if (!complete) {
      dropped.add(t.status == TrialStatus::kInfeasible && t.epochs_completed == 0
                      ? "never trained, and feasible under this sweep's constraints"
                      : "without this sweep's objectives",
                  name);
      continue;
    } else {
      prior.status =
          t.status == TrialStatus::kPruned ? TrialStatus::kPruned : TrialStatus::kFinished;
    }
    evidence.trials.push_back(std::move(prior));
  }
  if (with_objectives == 0 && dropped.by_reason.contains("without this sweep's objectives")) {
    std::vector<std::string> names;
    for (const search::Objective& o : spec.objectives) names.push_back(o.metric);
    throw InputError(fmt::format("{}.sweep: sweep {} of {} recorded none of {}", where, source.id,
                                 warm.db, fmt::join(names, ", ")));
  }
  evidence.summary =
      fmt::format("warm start: {} trial(s) of sweep {} \"{}\" in {} seed the {}",
                  evidence.trials.size(), source.id, source.name, warm.db, to_string(spec.method));
  if (dropped.total() > 0) {
    evidence.summary += fmt::format("; {} dropped:", dropped.total());
    for (const auto& [reason, entry] : dropped.by_reason) {
      evidence.summary += fmt::format("\n  {} {} (e.g. {})", entry.first, reason, entry.second);
    }
  }
  return evidence;
}

std::vector<nlohmann::json> load_enqueue_file(const std::string& path,
                                              const search::SweepSpec& spec) {
  if (spec.method == search::Method::kPbt) {
    throw InputError(fmt::format("{}: --enqueue: a PBT population is fixed when it starts", path));
  }
  const std::optional<std::string> text = file_text(path);
  if (!text) throw InputError(fmt::format("{}: cannot open the file of configs to enqueue", path));
  const nlohmann::json document = parse_json(*text, path);
  std::vector<nlohmann::json> configs = document.is_array()
                                            ? document.get<std::vector<nlohmann::json>>()
                                            : std::vector<nlohmann::json>{document};
  if (configs.empty()) throw InputError(fmt::format("{}: no configs to enqueue", path));
  for (size_t i = 0; i < configs.size(); ++i) {
    if (auto why = search::misfit(spec.parameters, configs[i], true)) {
      throw InputError(fmt::format("{}: [{}]: {}", path, i, *why));
    }
  }
  return configs;
}

}  // namespace fersweep::coordinator
