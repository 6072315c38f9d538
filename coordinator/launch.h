#pragma once
// The life of every rank of `mpirun -n N fersweep run SPEC --db DB` (docs/ARCHITECTURE.md, "Rank
// lifecycle"). Every rank calls run_rank with the same options; the collectives below happen in
// this order on all of them:
//
//   1. node_placement (MPI_Comm_split_type, MPI_Allreduce, MPI_Exscan): each rank learns its place
//      among its node's training ranks, which picks its device, threads and memory budget.
//   2. the gang size, broadcast from rank 0 once it has read the spec; 0 means the spec (or the
//      command line) was refused and every worker returns 2 at once, rank 0 saying why.
//   3. MPI_Comm_split of the training ranks into gangs of that size (rank 0 takes part with no
//      colour); each gang makes its data-parallel communicator.
//
// Then rank 0 coordinates (coordinator/coordinator.h) and each gang serves trials
// (comm/worker_loop.h) until rank 0 sends kShutdown. A problem rank 0 finds before handing out
// work (a bad database, a refused resume) still releases every worker with kShutdown. Workers
// that stopped reporting cannot be released: rank 0 records the sweep as interrupted and aborts
// the job (MPI_Abort), saying how to resume. With --coordinator-trains, rank 0 also trains on a
// thread of its own that talks to the coordinator through in-memory queues, never MPI.
//
// One process (no mpirun, or -n 1) runs the same sweep with the trials in-process.
#include "comm/mpi_checked.h"
#include "coordinator/run_options.h"

namespace fersweep::coordinator {

// This rank's part of the sweep: returns the process's exit code (0; 1 for a failure or a sweep
// with no finished trial; 2 for bad input, which rank 0 reports on one line; 128 + signal when
// stopped by SIGTERM or SIGINT). Errors are reported here, the process boundary of `run`.
int run_rank(const mpi::Comm& world, const RunOptions& options, const TrainingSide& training);

}  // namespace fersweep::coordinator
