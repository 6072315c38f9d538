#include "coordinator/sweep_setup.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "results/pareto_front.h"
#include "results/queries.h"
#include "results/tables.h"

namespace fersweep::coordinator {
namespace {

// A directory given on the command line, else `<db name>_<suffix>` beside the database. Absolute,
// because paths are stored with each trial and read from wherever the user is.
std::string beside_database(const RunOptions& options, const std::string& given,
                            const char* suffix) {
  if (!given.empty()) return std::filesystem::absolute(given).string();
  const std::filesystem::path db = std::filesystem::absolute(options.db_path);
  return (db.parent_path() / (db.stem().string() + suffix)).string();
}

// The ranks mpirun started must form whole gangs, and the node's training ranks must fit its GPUs.
void check_against_world(const search::SweepSpec& spec, const RunOptions& options, int world_size,
                         const NodePlacement& node, const RankPlacement& placement) {
  const std::string& file = options.spec_path;
  if (auto problem =
          packing_problem(node.training_ranks, placement.gpus_in_use, spec.trials_per_gpu)) {
    throw InputError(fmt::format("{}: {}", file, *problem));
  }
  const int idle = idle_slots(node.training_ranks, placement.gpus_in_use, spec.trials_per_gpu);
  if (idle > 0 && spec.trials_per_gpu > 1 && !options.quiet) {
    fmt::print(
        "note: {} of {} GPU trial slots on this node have no rank (resources.trials_per_gpu {})\n",
        idle, placement.gpus_in_use * spec.trials_per_gpu, spec.trials_per_gpu);
  }
  const int gang = spec.gpus_per_trial;
  if (options.coordinator_trains && gang > 1) {
    throw InputError(fmt::format(
        "{}: --coordinator-trains trains whole trials on rank 0, which cannot join a gang; it "
        "needs resources.gpus_per_trial 1, not {}",
        file, gang));
  }
  if (world_size > 1 && (world_size - 1) % gang != 0) {
    throw InputError(fmt::format(
        "{}: resources.gpus_per_trial is {}, but mpirun started {} training rank(s) after the "
        "coordinator; start 1 + k x {} ranks (e.g. mpirun -n {})",
        file, gang, world_size - 1, gang, 1 + gang));
  }
}

// "parameters.lr.max" for the JSON pointer "/parameters/lr/max".
std::string dotted(const std::string& pointer) {
  std::string path = pointer.empty() ? std::string("(the whole spec)") : pointer.substr(1);
  std::replace(path.begin(), path.end(), '/', '.');
  return path;
}

// What changed from the stored spec to the given one, one line per change, at most `limit`.
std::string spec_changes(const nlohmann::json& stored, const nlohmann::json& given, size_t limit) {
  const nlohmann::json patch = nlohmann::json::diff(stored, given);
  std::string out;
  for (size_t i = 0; i < patch.size() && i < limit; ++i) {
    const nlohmann::json& change = patch[i];
    const std::string path = change.at("path");
    const std::string op = change.at("op");
    const nlohmann::json::json_pointer pointer(path);
    if (op == "add") {
      out += fmt::format("\n  {}: added {}", dotted(path), change.at("value").dump());
    } else if (op == "remove") {
      out += fmt::format("\n  {}: removed (was {})", dotted(path), stored.at(pointer).dump());
    } else {
      out += fmt::format("\n  {}: {} -> {}", dotted(path), stored.at(pointer).dump(),
                         change.at("value").dump());
    }
  }
  if (patch.size() > limit) out += fmt::format("\n  ... and {} more", patch.size() - limit);
  return out;
}

}  // namespace

search::SweepSpec load_spec_for_run(const RunOptions& options, int world_size,
                                    const NodePlacement& node, const RankPlacement& placement) {
  search::SweepSpec spec = search::load_spec_file(options.spec_path);
  check_against_world(spec, options, world_size, node, placement);
  try {
    spec.data.check_paths("data");
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", options.spec_path, e.what()));
  }
  if (options.threads) spec.threads_per_worker = *options.threads;
  if (options.checkpoints == "none") {
    if (spec.early_stopping.promotion || spec.method == search::Method::kPbt) {
      throw InputError(fmt::format(
          "--checkpoints none: {} {} and continues them from their training state, which "
          "`none` would not keep",
          options.spec_path,
          spec.method == search::Method::kPbt
              ? "pauses its members every perturbation_interval (method \"pbt\")"
              : "pauses trials at rungs (early_stopping.mode \"promotion\")"));
    }
    spec.checkpoints = search::CheckpointPolicy::kNone;  // nothing kept: no state either
  } else {
    spec.checkpoint_dir = beside_database(options, options.checkpoints, "_checkpoints");
  }
  spec.state_dir = beside_database(options, options.state_dir, "_state");
  return spec;
}

std::optional<results::StoredSweep> stored_sweep_to_resume(results::Store& store,
                                                           const search::SweepSpec& spec,
                                                           bool forced) {
  std::optional<results::StoredSweep> stored = store.latest_sweep_named(spec.name);
  if (!stored) return std::nullopt;
  if (stored->spec != spec.document && !forced && stored->status != SweepStatus::kFinished) {
    throw InputError(fmt::format(
        "{}: sweep {} \"{}\" was started from a different spec; --force resumes it anyway, "
        "a new name starts a new sweep. Changes:{}",
        store.path(), stored->id, spec.name, spec_changes(stored->spec, spec.document, 10)));
  }
  return stored;
}

void print_opening(const search::SweepSpec& spec, int64_t sweep_id, uint64_t planned_trials,
                   int world_size, int gangs, int gang_size, int threads,
                   const std::string& db_path) {
  const std::string trials = planned_trials > 0 ? fmt::format("{} trials", planned_trials)
                                                : std::string("trials until the wall time");
  const std::string stopping = spec.early_stopping.rule == search::StoppingRule::kNone
                                   ? ""
                                   : ", early stopping " + to_string(spec.early_stopping.rule);
  const std::string ranks = world_size > 1 && gang_size > 1
                                ? fmt::format("{} gang(s) of {} ranks", gangs, gang_size)
                                : fmt::format("{} training rank(s)", gangs);
  std::vector<std::string> goals;
  for (const search::Objective& o : spec.objectives) {
    goals.push_back(fmt::format("{} {}", o.maximize ? "maximize" : "minimize", o.metric));
  }
  fmt::print("sweep {} \"{}\": {} ({}{}), {}, {} x {} thread(s) -> {}\n", sweep_id, spec.name,
             trials, to_string(spec.method), stopping, fmt::join(goals, ", "), ranks, threads,
             db_path);
  if (world_size == 1 && spec.gpus_per_trial > 1) {
    fmt::print(
        "note: resources.gpus_per_trial {} needs mpirun -n 1+k*{}; one process trains each "
        "trial alone\n",
        spec.gpus_per_trial, spec.gpus_per_trial);
  }
  std::fflush(stdout);
}

int report_outcome(const RunOptions& options, int64_t sweep_id) {
  const results::Reader reader(options.db_path);
  const results::SweepSummary sweep = reader.sweep(sweep_id);
  const auto ranked = reader.rank(sweep.id, sweep.metric, sweep.maximize, options.top);
  fmt::print("\n{}", results::rank_table(sweep, ranked, sweep.metric));
  if (ranked.empty()) {
    std::fflush(stdout);
    fmt::print(stderr,
               "fersweep: sweep {} \"{}\" ended with no finished trial ({}); `fersweep results "
               "--db {} list` says why\n",
               sweep.id, sweep.name, results::status_counts_text(sweep), options.db_path);
    return kExitFailure;
  }
  const auto objectives = results::sweep_objectives(sweep);
  if (objectives.size() > 1) {  // several objectives: the front, not one best trial
    const results::ParetoFront front =
        results::pareto_front(reader.trials(sweep.id), objectives, std::nullopt);
    fmt::print("\n{}\ndetails: fersweep results --db {} pareto\n",
               results::pareto_table(sweep, front), options.db_path);
    return 0;
  }
  fmt::print("\nbest: trial {} ({} = {:.4f}); details: fersweep results --db {} show {}\n",
             ranked.front().id, sweep.metric, ranked.front().metrics.at(sweep.metric),
             options.db_path, ranked.front().id);
  return 0;
}

}  // namespace fersweep::coordinator
