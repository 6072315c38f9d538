#pragma once
// A TrialRunner that evaluates a benchmark function instead of training: same protocol, same
// per-epoch reports and stop decisions, microseconds per trial.
#include <memory>

#include "common/trial.h"

namespace fersweep::benchmarks {

// Runs assignments whose `benchmark` field is set (see functions.h); throws for others.
std::unique_ptr<TrialRunner> make_benchmark_runner();

}  // namespace fersweep::benchmarks
