#pragma once
// A sweep's progress in a few lines, for the terminal: the status block `fersweep run` keeps on
// rank 0 and `fersweep results watch` shows for a database another job is writing. Read with
// aggregate queries only, so it stays cheap at 100,000 trials.
#include <cstdint>
#include <optional>
#include <string>

#include "results/queries.h"

namespace fersweep::results {

struct Progress {
  SweepSummary sweep;
  std::optional<TrialSummary> best;  // the best finished trial by the sweep's metric
  int64_t busy_workers = 0;          // distinct ranks running a trial
  double elapsed_seconds = 0;        // since the sweep was created
};

Progress read_progress(const Reader& reader, int64_t sweep_id);

// "trials: 12 finished, 3 running, 5 pruned, 1 failed of 60 | best val_accuracy 0.8403 (trial 6)"
// and "workers: 3 busy, 1 idle | 2m13s elapsed, ETA 8m" (idle only when `workers` is known).
std::string progress_text(const Progress& progress, int workers = 0);

// 135 -> "2m15s", 7300 -> "2h01m".
std::string duration_text(double seconds);

}  // namespace fersweep::results
