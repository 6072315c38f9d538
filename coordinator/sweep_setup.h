#pragma once
// Rank 0's work before the first trial and after the last: the spec read and checked against the
// ranks mpirun started and the files it names (all before the database is touched), the stored
// sweep that --resume continues, the opening line, and the leaderboard with the outcome.
#include <cstdint>
#include <optional>
#include <string>

#include "comm/placement.h"
#include "coordinator/run_options.h"
#include "results/store.h"
#include "search_spaces/spec.h"

namespace fersweep::coordinator {

// Reads the spec and checks it against the world: the gang size against the ranks started, GPU
// packing on this node, --coordinator-trains, and every data source's path. InputError naming
// the spec file and field. Fills in the run options' threads and checkpoint directory.
search::SweepSpec load_spec_for_run(const RunOptions& options, int world_size,
                                    const NodePlacement& node, const RankPlacement& placement);

// --resume: the newest sweep of the spec's name, if there is one. A sweep started from another
// spec is only resumed when forced; the refusal lists what changed.
std::optional<results::StoredSweep> stored_sweep_to_resume(results::Store& store,
                                                           const search::SweepSpec& spec,
                                                           bool forced);

// "sweep 3 "name": 10 trials (random), maximize val_accuracy, 2 training rank(s), 1 x 4
// thread(s) -> sweep.db", and notes on anything the ranks ignore.
void print_opening(const search::SweepSpec& spec, int64_t sweep_id, uint64_t planned_trials,
                   int world_size, int gangs, int gang_size, int threads,
                   const std::string& db_path);

// Prints the leaderboard; returns the exit code: 0, or 1 with a summary line on stderr when no
// trial of the sweep finished (every one failed or was pruned), so that a batch script notices.
int report_outcome(const RunOptions& options, int64_t sweep_id);

}  // namespace fersweep::coordinator
