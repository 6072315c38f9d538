#pragma once
// The sweep database's schema (version kSchemaVersion, kept in PRAGMA user_version):
//
//   sweeps(id, name, method, metric, goal, seed, planned_trials, spec_json, status, created_at,
//          finished_at)                          -- status: running, finished, failed, interrupted
//   trials(id, sweep_id, number, params_json, seed, status, worker_rank, started_at, finished_at,
//          epochs_completed, objective, wall_seconds, images_per_second, param_count, error,
//          checkpoint, state_path, state_epoch, state_digest, runs, epochs_redone)
//                -- status: pending, running, paused, finished, pruned, failed, interrupted,
//                   infeasible
//   epochs(trial_id, epoch, seconds, recorded_at)
//   epoch_metrics(trial_id, epoch, name, value)   -- e.g. val_accuracy of each epoch
//   trial_metrics(trial_id, name, value)          -- final metrics, rankable by name (indexed by
//                                                    name and value)
//   class_reports(trial_id, class_index, name, precision, recall, f1, support)
//   confusion(trial_id, actual, predicted, count) -- validation confusion matrix cells
//   trial_rungs(trial_id, epoch, value, outcome)  -- ASHA/Hyperband rungs: continued, stopped,
//                                                    paused, promoted
//   trial_lineage(trial_id, epoch, parent_id, params_json)
//                -- PBT: params from epoch + 1 on, and whose state the member loaded there
//   prior_trials(sweep_id, position, source, params_json, status, objectives_json, epochs,
//                violation)                      -- an earlier sweep's trials seeding this one
//   enqueued_configs(id, sweep_id, params_json, trial_id, enqueued_at)
//                -- configs to run next; trial_id once started
//
// A database written by an older fersweep is upgraded in place, one ordered step per version, all
// in one transaction.
#include <string>

#include "results/sqlite.h"

namespace fersweep::results {

inline constexpr int kSchemaVersion = 8;

// Opens a fersweep database, creating it when writable and new. Throws InputError (naming the
// file) for a missing file in read-only mode, a file that is not SQLite, a SQLite file that is not
// fersweep's, or a schema version newer than this binary knows; never modifies such a file.
// Opened for writing, an older schema is upgraded and the database runs in WAL mode, so readers
// never block the writer.
sql::Database open_database(const std::string& path, bool read_only);

}  // namespace fersweep::results
