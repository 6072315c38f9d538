#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "benchmarks/benchmark_runner.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "comm/mpi_checked.h"
#include "common/error.h"
#include "common/text.h"
#include "coordinator/launch.h"
#include "parallel/gang.h"
#include "parallel/gpu_memory.h"
#include "worker/torch_runner.h"

namespace fersweep::cli {

const char* const kRunHelp = R"(usage: [mpirun -n N] fersweep run SPEC --db DB [options]

Runs the sweep described by the JSON spec file SPEC (the language: docs/SPEC.md; examples:
search_spaces/default.json and search_spaces/examples/) and records every trial, epoch, confusion
matrix and per-class report in the SQLite database DB (created if missing; an existing one gets a
new sweep). Early stopping and the wall-time budget end trials as "pruned", keeping their epochs.

Under mpirun, rank 0 coordinates and ranks 1..N-1 train one trial at a time each; with the
spec's resources.gpus_per_trial = G they train in gangs of G ranks with data parallelism
(N = 1 + gangs x G; docs/PARALLEL.md). With a single process the trials run in-process, one
after the other.

options:
  --db DB          the SQLite results database (required)
  --threads N      LibTorch intra-op threads per training rank (default: the spec's
                   resources.threads_per_worker, else cores per node / training ranks per node)
  --checkpoints D  keep each trial's best model (by the sweep's metric) in directory D as
                   trial_<id>.json and its weights; `none` keeps nothing, no training state
                   either (default: beside the database, in DB's name with .db replaced by
                   _checkpoints)
  --state-dir D    where trials keep their training state after every epoch (the spec's
                   checkpoints: every_epoch, the default), to continue from it after a crash,
                   a stop or a lost worker; every rank must see it (default: beside the
                   database, in DB's name with .db replaced by _state)
  --device D       auto (default: a GPU picked by the rank's place on its node where LibTorch
                   has CUDA, else the CPU), cpu, cuda (the same pick) or cuda:N
  --resume         continue the newest sweep in DB named as SPEC's, if it has not finished
                   (after a crash, a kill or a batch system's time limit): finished trials are
                   kept, interrupted ones continue from their last training state (from the
                   start without one), the search picks up where it was. Without
                   such a sweep in DB, starts a new one. Refused if SPEC changed since, unless
  --force          is given too (the refusal lists the changes)
  --enqueue FILE   add the configs in FILE (a JSON list of configs; a partial one is completed
                   by sampling) to the newest sweep in DB named as SPEC's: a running sweep starts
                   them before its next sampled config, outside its trial budget; alone, this
                   only enqueues and exits; with --resume, the resumed sweep runs them first
  --coordinator-trains
                   rank 0 trains trials too, beside coordinating (so that a machine with one
                   GPU per rank wastes none); needs resources.gpus_per_trial 1
  --top K          leaderboard rows printed at the end (default 5)
  --quiet          print only the leaderboard
  -h, --help       this help

Exit code 1 when the sweep ends with no finished trial (a summary line says how they ended).
)";

namespace {

// Trains with LibTorch, or evaluates a benchmark function when the assignment names one. Each
// runner is made on first use, so a benchmark sweep never loads training data.
class TrialRunnerForAssignment final : public TrialRunner {
 public:
  explicit TrialRunnerForAssignment(worker::RunnerOptions options) : options_(std::move(options)) {}

  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override {
    return runner_for(assignment).run(assignment, on_epoch);
  }
  std::map<std::string, double> measure_costs(const TrialAssignment& assignment) override {
    return runner_for(assignment).measure_costs(assignment);
  }

 private:
  TrialRunner& runner_for(const TrialAssignment& assignment) {
    if (!assignment.benchmark.is_null()) {
      if (!benchmark_) benchmark_ = benchmarks::make_benchmark_runner();
      return *benchmark_;
    }
    if (!torch_) torch_ = worker::make_torch_runner(options_);
    return *torch_;
  }

  worker::RunnerOptions options_;
  std::unique_ptr<TrialRunner> torch_, benchmark_;
};

// What this node has: LibTorch's GPUs, the CUDA runtime's word on their memory, the kernel's on
// the host's.
MachineFacts this_machine() {
  MachineFacts machine;
  machine.gpus = worker::cuda_device_count();
  machine.memory_gb = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                      static_cast<double>(sysconf(_SC_PAGE_SIZE)) / (1024.0 * 1024.0 * 1024.0);
  machine.hardware_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  machine.gpu_memory_gb = parallel::gpu_total_memory_gb;
  return machine;
}

coordinator::TrainingSide training_side() {
  coordinator::TrainingSide training;
  training.machine = this_machine();
  training.set_threads = worker::set_intra_op_threads;
  training.make_runner = [](const RankPlacement& placement,
                            const mpi::Comm* gang) -> std::unique_ptr<TrialRunner> {
    worker::RunnerOptions options;
    options.device = placement.device;
    options.default_memory_gb = placement.memory_gb;
    if (gang) options.gang = parallel::make_communicator(*gang, placement.device);
    return std::make_unique<TrialRunnerForAssignment>(std::move(options));
  };
  return training;
}

coordinator::RunOptions run_options(const std::vector<std::string>& raw) {
  const Args args(raw, {"quiet", "resume", "force", "coordinator-trains"},
                  {"db", "threads", "top", "checkpoints", "state-dir", "device", "enqueue"},
                  "fersweep run");
  args.expect_positionals(1, 1, "SPEC");
  coordinator::RunOptions options;
  options.spec_path = args.positionals()[0];
  options.db_path = args.required_option("db");
  options.quiet = args.flag("quiet");
  options.resume = args.flag("resume");
  options.force = args.flag("force");
  options.enqueue_path = args.option("enqueue").value_or("");
  options.coordinator_trains = args.flag("coordinator-trains");
  if (auto threads = args.int_option("threads", 1, 4096))
    options.threads = static_cast<int>(*threads);
  options.checkpoints = args.option("checkpoints").value_or("");
  options.state_dir = args.option("state-dir").value_or("");
  options.device = parse_device_request(args.option("device").value_or("auto"));
  options.top = static_cast<int>(args.int_option("top", 1, 100000).value_or(5));
  return options;
}

}  // namespace

int run_command(int& argc, char**& argv, const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kRunHelp, stdout);
    return 0;
  }
  mpi::Session session(argc, argv);
  const mpi::Comm world = mpi::Comm::world();
  coordinator::RunOptions options;
  try {
    // Every rank reads the same command line, so all get past here or none.
    options = run_options(raw);
  } catch (const InputError& e) {
    if (world.rank() == 0) fmt::print(stderr, "fersweep: {}\n", terminal_text(e.what()));
    return kExitInputError;
  }
  return coordinator::run_rank(world, options, training_side());
}

}  // namespace fersweep::cli
