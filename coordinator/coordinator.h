#pragma once
// The coordinator: world rank 0 of `mpirun -n N fersweep run SPEC --db DB`.
//
// Message protocol (tags in comm/protocol.h, payloads MessagePack-encoded structs of
// common/trial.h). Every worker conversation is:
//
//   worker                              coordinator
//     | -- kReady {} ------------------->  |  once, at start-up
//     | <-------- kAssign TrialAssignment  |  as soon as this worker is idle
//     | -- kEpoch EpochMetrics --------->  |  after every epoch; stored at once
//     | <---------- kDecision {decision}   |  continue, stop (early stopping) or pause; with
//     |                                    |  ASHA's report deadline, "report_allowance": the
//     |                                    |  seconds the next epoch may take
//     |        ... one kEpoch/kDecision pair per epoch ...
//     | -- kDone TrialResult ----------->  |  final metrics, confusion matrix, report;
//     | <-------- kAssign ... | kShutdown  |  "done" doubles as "ready again"
//
// The coordinator serves whichever worker speaks next (MPI_ANY_SOURCE), so workers never wait
// for each other: hand-out is asynchronous, not lock-step. It sends kShutdown to a worker that
// asks for work once the budget is spent, and returns when every worker has been shut down.
// With resources.gpus_per_trial = G the training ranks form gangs of G consecutive world ranks
// (1..G, G+1..2G, ...); only each gang's leader, its first rank, is a "worker" here, and it
// relays the conversation to its gang (comm/worker_loop.h).
// Only the coordinator touches the database. With one rank (N = 1) the same SweepDriver runs
// the trials in-process instead.
#include <vector>

#include "comm/local_link.h"
#include "comm/mpi_checked.h"
#include "common/trial.h"
#include "coordinator/sweep_driver.h"

namespace fersweep::coordinator {

// The world rank of each gang's leader, for gangs of `gang_size` ranks after the coordinator.
std::vector<int> gang_leaders(int world_size, int gang_size);

// Runs the sweep over MPI until the budget is spent and every gang has been released. With a
// progress deadline (spec failures.progress_deadline), a worker silent past it while running a
// trial is lost: its trial runs again elsewhere, and it is taken back if it speaks again. Returns
// the number of workers still lost when only they were left and stayed silent another deadline:
// they cannot be released, so the caller must abort them.
// `local`: a worker in this process (rank 0 trains too), or none.
int coordinate(const mpi::Comm& world, int gang_size, SweepDriver& driver,
               LocalLink* local = nullptr);

// Releases every gang without work: for a coordinator that failed before coordinating.
void release_workers(const mpi::Comm& world, int gang_size);

// Runs the whole sweep in this process, one trial after the other.
void run_in_process(SweepDriver& driver, TrialRunner& runner);

}  // namespace fersweep::coordinator
