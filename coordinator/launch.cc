#include "coordinator/launch.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "comm/local_link.h"
#include "comm/worker_loop.h"
#include "common/error.h"
#include "common/heap.h"
#include "common/status_board.h"
#include "common/stop_signal.h"
#include "common/text.h"
#include "coordinator/coordinator.h"
#include "coordinator/sweep_setup.h"
#include "coordinator/warm_start.h"
#include "results/progress.h"
#include "results/queries.h"

namespace fersweep::coordinator {
namespace {

// Where rank 0 stands with its workers: whether any still waits for a word from it.
struct RankZero {
  int gang_size = 0;              // 0 until shared with the workers
  bool workers_released = false;  // no worker is waiting for rank 0 any more
};

// Collective 2: the gang size, or 0 when the spec was refused (the workers then leave quietly).
int share_gang_size(const mpi::Comm& world, int gang_size) {
  if (world.size() == 1) return gang_size;
  return mpi::broadcast_int(world, gang_size, 0);
}

// A training rank's whole life: its gang, then trials until rank 0 shuts it down.
int serve_as_worker(const mpi::Comm& world, const RankPlacement& placement,
                    const TrainingSide& training) {
  ignore_stop_signals();  // the coordinator winds the sweep down
  const int gang_size = share_gang_size(world, 0);
  if (gang_size == 0) return kExitInputError;  // rank 0 says why
  const int rank = world.rank();
  const std::optional<mpi::OwnedComm> gang = mpi::split(world, (rank - 1) / gang_size, rank);
  const std::unique_ptr<TrialRunner> runner = training.make_runner(placement, &*gang);
  serve_trials(world, *gang, *runner);
  return 0;
}

// Hands trials to the workers until the budget is spent; with --coordinator-trains, rank 0 also
// trains on a thread that makes no MPI call. Returns the workers lost for good.
int coordinate_workers(const mpi::Comm& world, const RunOptions& options,
                       const RankPlacement& placement, const TrainingSide& training, int gang_size,
                       SweepDriver& driver) {
  LocalLink link;
  std::exception_ptr trainer_failure;
  std::thread trainer;
  if (options.coordinator_trains) {
    trainer = std::thread([&] {
      try {
        serve_trials_locally(link, *training.make_runner(placement, nullptr));
      } catch (...) {
        trainer_failure = std::current_exception();
      }
    });
  }
  const int lost = coordinate(world, gang_size, driver, trainer.joinable() ? &link : nullptr);
  if (trainer.joinable()) trainer.join();
  if (trainer_failure) std::rethrow_exception(trainer_failure);
  return lost;
}

// The sweep's end: interrupted by a signal, or finished with its leaderboard and outcome.
int finish_sweep(const RunOptions& options, SweepDriver& driver) {
  if (const int signal_number = stop_signal()) {
    driver.finish(SweepStatus::kInterrupted);
    fmt::print(stderr,
               "fersweep: stopped by signal {}: {} running trial(s) interrupted; `fersweep run {} "
               "--db {} --resume` continues the sweep\n",
               signal_number, driver.interrupted(), options.spec_path, options.db_path);
    return 128 + signal_number;
  }
  driver.finish(SweepStatus::kFinished);
  return report_outcome(options, driver.sweep_id());
}

int lead_sweep(const mpi::Comm& world, const RunOptions& options, const NodePlacement& node,
               const RankPlacement& placement, const TrainingSide& training, RankZero& state) {
  search::SweepSpec spec;
  try {
    spec = load_spec_for_run(options, world.size(), node, placement);
  } catch (const InputError&) {
    share_gang_size(world, 0);
    state.workers_released = true;
    throw;
  }
  state.gang_size = share_gang_size(world, spec.gpus_per_trial);
  if (world.size() > 1) mpi::split(world, -1, 0);  // collective 3: the workers form their gangs
  // Every input is read before the database is touched: a bad one leaves it as it was.
  std::vector<nlohmann::json> enqueued;
  if (!options.enqueue_path.empty()) enqueued = load_enqueue_file(options.enqueue_path, spec);
  std::optional<WarmStartEvidence> warm;
  if (spec.warm_start && !options.resume && enqueued.empty()) {
    warm = load_warm_start(spec, options.spec_path);
  }
  results::Store store(options.db_path);
  std::optional<results::StoredSweep> resumed;
  if (options.resume || !enqueued.empty()) {
    resumed = stored_sweep_to_resume(store, spec, options.force);
  }
  if (!enqueued.empty()) {
    if (!resumed) {
      throw InputError(
          fmt::format("{}: no sweep named \"{}\" to enqueue into; a new sweep runs its spec's "
                      "initial_configs first",
                      options.db_path, spec.name));
    }
    store.enqueue(resumed->id, enqueued);
    if (!options.quiet) {
      fmt::print("{} config(s) from {} enqueued for sweep {} \"{}\": {}\n", enqueued.size(),
                 options.enqueue_path, resumed->id, spec.name,
                 options.resume ? "they run first"
                                : "a running sweep starts them before its next sampled config; "
                                  "a stopped or finished one on --resume");
    }
    if (!options.resume) {
      if (world.size() > 1) release_workers(world, state.gang_size);
      state.workers_released = true;
      return 0;
    }
  }
  // --resume found nothing to resume: a new sweep starts, and needs its evidence after all (a
  // resumed one has it stored, so its old database may be gone).
  if (spec.warm_start && !resumed && !warm) warm = load_warm_start(spec, options.spec_path);
  if (resumed && resumed->status == SweepStatus::kFinished && !store.next_queued(resumed->id)) {
    if (world.size() > 1) release_workers(world, state.gang_size);
    state.workers_released = true;
    if (!options.quiet)
      fmt::print("sweep {} \"{}\" has finished: nothing to resume\n", resumed->id, spec.name);
    return report_outcome(options, resumed->id);
  }
  const int gangs =
      world.size() > 1 ? (world.size() - 1) / state.gang_size + (options.coordinator_trains ? 1 : 0)
                       : 1;
  // On a terminal, a status block under the per-trial lines (Open MPI gives rank 0 a pty).
  std::atomic<int64_t> shown_sweep = 0;
  std::unique_ptr<StatusBoard> board;
  if (!options.quiet && StatusBoard::is_terminal(stdout)) {
    board = std::make_unique<StatusBoard>(stdout, [&shown_sweep, &options, gangs] {
      const int64_t id = shown_sweep.load();
      if (id == 0) return std::string();
      const results::Reader reader(options.db_path);
      return results::progress_text(results::read_progress(reader, id), gangs);
    });
  }
  std::FILE* log = options.quiet ? nullptr : board ? board->log() : stdout;
  SweepDriver driver =
      resumed
          ? SweepDriver(spec, store, log, *resumed, options.force)
          : SweepDriver(spec, store, log, warm ? warm->trials : std::vector<results::PriorTrial>{});
  const int threads = spec.threads_per_worker > 0
                          ? spec.threads_per_worker
                          : options.threads.value_or(default_threads(node, training.machine));
  if (!options.quiet) {
    print_opening(spec, driver.sweep_id(), driver.planned_trials(), world.size(), gangs,
                  state.gang_size, threads, options.db_path);
    if (warm) {
      fmt::print("{}\n", warm->summary);
      std::fflush(stdout);
    }
  }
  shown_sweep = driver.sweep_id();
  if (world.size() == 1) {
    training.set_threads(threads);
    run_in_process(driver, *training.make_runner(placement, nullptr));
  } else if (const int lost =
                 coordinate_workers(world, options, placement, training, state.gang_size, driver);
             lost > 0) {
    // Hung workers cannot be released; what they ran is recorded as interrupted.
    driver.finish(SweepStatus::kInterrupted);
    fmt::print(stderr,
               "fersweep: {} worker(s) stopped reporting and never came back; aborting them. "
               "`fersweep run {} --db {} --resume` runs what they left\n",
               lost, options.spec_path, options.db_path);
    std::fflush(stderr);
    MPI_Abort(world.handle(), kExitFailure);
  }
  state.workers_released = true;
  if (board) board->close();  // the leaderboard and the outcome follow as plain lines
  return finish_sweep(options, driver);
}

// Rank 0's life: on bad input found before any work was handed out, the workers are let go.
int lead(const mpi::Comm& world, const RunOptions& options, const NodePlacement& node,
         const RankPlacement& placement, const TrainingSide& training, RankZero& state) {
  install_stop_handlers();
  try {
    return lead_sweep(world, options, node, placement, training, state);
  } catch (const InputError&) {
    if (!state.workers_released) release_workers(world, state.gang_size);
    state.workers_released = true;
    throw;
  }
}

}  // namespace

int run_rank(const mpi::Comm& world, const RunOptions& options, const TrainingSide& training) {
  const int rank = world.rank();
  keep_freed_memory_for_reuse();  // training steps and TPE suggestions repeat their allocations
  RankZero state;
  state.workers_released = world.size() == 1;
  try {
    // Collective 1: every rank must get here before ranks go separate ways.
    const NodePlacement node = mpi::node_placement(world, options.coordinator_trains);
    training.set_threads(options.threads.value_or(default_threads(node, training.machine)));
    const RankPlacement placement = place_rank(options.device, node, training.machine);
    if (rank != 0) return serve_as_worker(world, placement, training);
    return lead(world, options, node, placement, training, state);
  } catch (const InputError& e) {
    if (rank == 0) fmt::print(stderr, "fersweep: {}\n", terminal_text(e.what()));
    return kExitInputError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fersweep: error on rank {}: {}\n", rank, terminal_text(e.what()));
    std::fflush(stderr);
    if (!state.workers_released) MPI_Abort(MPI_COMM_WORLD, kExitFailure);
    return kExitFailure;
  }
}

}  // namespace fersweep::coordinator
