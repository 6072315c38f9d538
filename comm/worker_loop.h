#pragma once
#include "comm/mpi_checked.h"
#include "common/trial.h"

namespace fersweep {

// The life of a training rank. `gang` holds the ranks that train one trial together (a single
// rank when trials are not data-parallel); its rank 0, the leader, talks to the coordinator:
// announces itself, takes every trial assigned, reports each epoch and obeys the continue/stop
// decision, until told to shut down. The leader relays each assignment and each decision to the
// rest of the gang, so all its ranks run the same trials and leave each on the same step. Trial
// failures are reported, never thrown; MPI failures throw.
void serve_trials(const mpi::Comm& world, const mpi::Comm& gang, TrialRunner& runner);

struct LocalLink;
// The same life for a worker in the coordinator's own process, alone (no gang), talking through
// `link`; it makes no MPI call.
void serve_trials_locally(LocalLink& link, TrialRunner& runner);

}  // namespace fersweep
