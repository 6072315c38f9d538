#pragma once
#include "comm/mpi_checked.h"
#include "common/trial.h"

namespace fersweep {

// The life of a worker rank: announce itself, then train every trial the coordinator assigns,
// reporting each epoch and obeying the coordinator's continue/stop decision, until told to shut
// down. Trial failures are reported, never thrown; MPI failures throw.
void serve_trials(const mpi::Comm& world, TrialRunner& runner);

}  // namespace fersweep
