#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "benchmarks/benchmark_runner.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "comm/local_link.h"
#include "comm/mpi_checked.h"
#include "comm/worker_loop.h"
#include "common/error.h"
#include "common/heap.h"
#include "common/stop_signal.h"
#include "coordinator/coordinator.h"
#include "parallel/gang.h"
#include "parallel/gpu_memory.h"
#include "parallel/gpu_slots.h"
#include "results/queries.h"
#include "results/store.h"
#include "results/tables.h"
#include "search_spaces/spec.h"
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
                   trial_<id>.pt + trial_<id>.json; `none` keeps nothing (default: beside the
                   database, in DB's name with .db replaced by _checkpoints)
  --device D       auto (default: a GPU picked by the rank's place on its node where LibTorch
                   has CUDA, else the CPU), cpu, cuda (the same pick) or cuda:N
  --resume         continue the newest sweep in DB named as SPEC's, if it has not finished
                   (after a crash, a kill or a batch system's time limit): finished trials are
                   kept, interrupted ones run again, the search picks up where it was. Without
                   such a sweep in DB, starts a new one. Refused if SPEC changed since, unless
  --force          is given too (the refusal lists the changes)
  --coordinator-trains
                   rank 0 trains trials too, beside coordinating (so that a machine with one
                   GPU per rank wastes none); needs resources.gpus_per_trial 1
  --top K          leaderboard rows printed at the end (default 5)
  --quiet          print only the leaderboard
  -h, --help       this help
)";

namespace {

// Trains with LibTorch, or evaluates a benchmark function when the assignment names one. Each
// runner is made on first use, so a benchmark sweep never loads training data.
class TrialRunnerForAssignment final : public TrialRunner {
 public:
  explicit TrialRunnerForAssignment(worker::RunnerOptions options) : options_(std::move(options)) {}

  TrialResult run(const TrialAssignment& assignment, const EpochCallback& on_epoch) override {
    if (!assignment.benchmark.is_null()) {
      if (!benchmark_) benchmark_ = benchmarks::make_benchmark_runner();
      return benchmark_->run(assignment, on_epoch);
    }
    if (!torch_) torch_ = worker::make_torch_runner(options_);
    return torch_->run(assignment, on_epoch);
  }

 private:
  worker::RunnerOptions options_;
  std::unique_ptr<TrialRunner> torch_, benchmark_;
};

// This rank's share of the node's memory: what a trial may use unless the spec says otherwise.
double memory_share_gb(int training_ranks_on_node) {
  const double bytes =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  return bytes / std::max(1, training_ranks_on_node) / (1024.0 * 1024.0 * 1024.0);
}

std::string checkpoint_dir(const Args& args, const std::string& db_path) {
  const std::string chosen = args.option("checkpoints").value_or("");
  if (chosen == "none") return "";
  // Absolute, because the path is stored with each trial and read from wherever the user is.
  if (!chosen.empty()) return std::filesystem::absolute(chosen).string();
  const std::filesystem::path db = std::filesystem::absolute(db_path);
  return (db.parent_path() / (db.stem().string() + "_checkpoints")).string();
}

// N of "cuda:N", or nothing when `device` is not of that form.
std::optional<int> cuda_index(const std::string& device) {
  constexpr std::string_view kPrefix = "cuda:";
  if (!device.starts_with(kPrefix) || device.size() == kPrefix.size()) return std::nullopt;
  int index = 0;
  const char* end = device.data() + device.size();
  const auto [stop, error] = std::from_chars(device.data() + kPrefix.size(), end, index);
  if (error != std::errc() || stop != end || index < 0) return std::nullopt;
  return index;
}

// The --device choice for this rank: with several GPUs on a node, its place among the node's
// training ranks picks one, round robin. Checked here, before the database is touched.
std::string device_for(const Args& args, const mpi::NodePlacement& placement) {
  const std::string chosen = args.option("device").value_or("auto");
  if (chosen == "cpu") return chosen;
  const std::optional<int> index = cuda_index(chosen);
  if (!index && chosen != "auto" && chosen != "cuda") {
    throw InputError(
        fmt::format("--device: expected auto, cpu, cuda or cuda:N, got \"{}\"", chosen));
  }
  const int gpus = worker::cuda_device_count();
  if (index) {
    if (*index >= gpus) {
      throw InputError(
          fmt::format("--device {}: this LibTorch or machine has {} GPU(s)", chosen, gpus));
    }
    return chosen;
  }
  if (gpus == 0) {
    if (chosen == "cuda") throw InputError("--device cuda: this LibTorch or machine has no GPU");
    return "cpu";
  }
  return fmt::format("cuda:{}", parallel::gpu_of(placement.training_index, gpus));
}

// GPUs the training ranks of a node spread over: none on the CPU, one when --device names it.
int gpus_in_use(const Args& args, const std::string& device) {
  if (!device.starts_with("cuda")) return 0;
  const std::string chosen = args.option("device").value_or("auto");
  return chosen == "auto" || chosen == "cuda" ? worker::cuda_device_count() : 1;
}

// A trial's memory budget unless resources.memory_gb sets one: this rank's share of the node's
// memory on the CPU, or of its GPU's where the CUDA runtime says how much that has (otherwise
// GPU trials are checked against resources.memory_gb only). docs/GPU.md.
double default_memory_gb(const Args& args, const std::string& device,
                         const mpi::NodePlacement& placement) {
  const int gpus = gpus_in_use(args, device);
  if (gpus == 0) return memory_share_gb(placement.training_ranks);
  const int index = cuda_index(device).value_or(0);  // device_for made it cuda:N
  const std::optional<double> total = parallel::gpu_total_memory_gb(index);
  if (!total) return 0;
  // One GPU named by --device takes every training rank of the node; otherwise gpu_of spreads them.
  const int sharing = gpus == 1 ? placement.training_ranks
                                : parallel::ranks_on_gpu(placement.training_ranks, gpus, index);
  return parallel::gpu_memory_share_gb(*total, sharing);
}

int hardware_threads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void print_leaderboard(const std::string& db_path, int64_t sweep_id, int top) {
  const results::Reader reader(db_path);
  const results::SweepSummary sweep = reader.sweep(sweep_id);
  const auto ranked = reader.rank(sweep.id, sweep.metric, sweep.maximize, top);
  fmt::print("\n{}", results::rank_table(sweep, ranked, sweep.metric));
  if (!ranked.empty()) {
    fmt::print("\nbest: trial {} ({} = {:.4f}); details: fersweep results --db {} show {}\n",
               ranked.front().id, sweep.metric, ranked.front().metrics.at(sweep.metric), db_path,
               ranked.front().id);
  }
}

// What the coordinator tells every rank at start-up: the gang size, or 0 when the spec was
// refused (the workers then leave quietly; rank 0 reports why).
int share_gang_size(const mpi::Comm& world, int gang_size) {
  if (world.size() == 1) return gang_size;
  return mpi::broadcast_int(world, gang_size, 0);
}

// The spec, read by rank 0 and checked against the ranks mpirun started.
search::SweepSpec load_spec_for_world(const mpi::Comm& world, const Args& args,
                                      const mpi::NodePlacement& placement,
                                      const std::string& device) {
  search::SweepSpec spec = search::load_spec_file(args.positionals()[0]);
  const int gpus = gpus_in_use(args, device);
  if (auto problem =
          parallel::packing_problem(placement.training_ranks, gpus, spec.trials_per_gpu)) {
    throw InputError(fmt::format("{}: {}", args.positionals()[0], *problem));
  }
  if (const int idle = parallel::idle_slots(placement.training_ranks, gpus, spec.trials_per_gpu);
      idle > 0 && spec.trials_per_gpu > 1 && !args.flag("quiet")) {
    fmt::print(
        "note: {} of {} GPU trial slots on this node have no rank (resources.trials_per_gpu {})\n",
        idle, gpus * spec.trials_per_gpu, spec.trials_per_gpu);
  }
  const int gang = spec.gpus_per_trial;
  if (args.flag("coordinator-trains") && gang > 1) {
    throw InputError(fmt::format(
        "{}: --coordinator-trains trains whole trials on rank 0, which cannot join a gang; it "
        "needs resources.gpus_per_trial 1, not {}",
        args.positionals()[0], gang));
  }
  if (world.size() > 1 && (world.size() - 1) % gang != 0) {
    throw InputError(fmt::format(
        "{}: resources.gpus_per_trial is {}, but mpirun started {} training rank(s) after the "
        "coordinator; start 1 + k x {} ranks (e.g. mpirun -n {})",
        args.positionals()[0], gang, world.size() - 1, gang, 1 + gang));
  }
  return spec;
}

// "parameters.lr.max" for the JSON pointer "/parameters/lr/max".
std::string dotted(const std::string& pointer) {
  std::string path = pointer.empty() ? std::string("(the whole spec)") : pointer.substr(1);
  std::replace(path.begin(), path.end(), '/', '.');
  return path;
}

// What changed from the stored spec to the given one, one line per change, at most `limit`.
std::string spec_changes(const nlohmann::json& stored, const nlohmann::json& given, size_t limit) {
  const nlohmann::json patch = nlohmann::json::diff(stored, given);
  std::string out;
  for (size_t i = 0; i < patch.size() && i < limit; ++i) {
    const nlohmann::json& change = patch[i];
    const std::string path = change.at("path");
    const std::string op = change.at("op");
    const nlohmann::json::json_pointer pointer(path);
    if (op == "add") {
      out += fmt::format("\n  {}: added {}", dotted(path), change.at("value").dump());
    } else if (op == "remove") {
      out += fmt::format("\n  {}: removed (was {})", dotted(path), stored.at(pointer).dump());
    } else {
      out += fmt::format("\n  {}: {} -> {}", dotted(path), stored.at(pointer).dump(),
                         change.at("value").dump());
    }
  }
  if (patch.size() > limit) out += fmt::format("\n  ... and {} more", patch.size() - limit);
  return out;
}

// --resume: the newest sweep of the spec's name, if there is one. A sweep started from another
// spec is only resumed when forced, and the refusal lists what changed.
std::optional<results::StoredSweep> stored_sweep_to_resume(results::Store& store,
                                                           const search::SweepSpec& spec,
                                                           bool forced) {
  std::optional<results::StoredSweep> stored = store.latest_sweep_named(spec.name);
  if (!stored) return std::nullopt;
  if (stored->spec != spec.document && !forced && stored->status != "finished") {
    throw InputError(fmt::format(
        "{}: sweep {} \"{}\" was started from a different spec; --force resumes it anyway, "
        "a new name starts a new sweep. Changes:{}",
        store.path(), stored->id, spec.name, spec_changes(stored->spec, spec.document, 10)));
  }
  return stored;
}

struct CoordinatorState {
  int gang_size = 0;              // 0 until shared with the workers
  bool workers_released = false;  // no worker is waiting for rank 0 any more
};

int coordinate_sweep(const mpi::Comm& world, const Args& args, const mpi::NodePlacement& placement,
                     int worker_threads, const worker::RunnerOptions& runner_options,
                     CoordinatorState& state) {
  const bool quiet = args.flag("quiet");
  const int top = static_cast<int>(args.int_option("top", 1, 100000).value_or(5));
  const std::string db_path = args.required_option("db");
  search::SweepSpec spec;
  try {
    spec = load_spec_for_world(world, args, placement, runner_options.device);
  } catch (const InputError&) {
    share_gang_size(world, 0);
    state.workers_released = true;
    throw;
  }
  state.gang_size = share_gang_size(world, spec.gpus_per_trial);
  if (world.size() > 1) mpi::split(world, -1, 0);  // collective: the workers form their gangs
  if (auto threads = args.int_option("threads", 1, 4096)) {
    spec.threads_per_worker = static_cast<int>(*threads);
  }
  spec.checkpoint_dir = checkpoint_dir(args, db_path);
  results::Store store(db_path);  // after the spec: a bad spec never touches the database
  std::optional<results::StoredSweep> resumed;
  if (args.flag("resume")) {
    resumed = stored_sweep_to_resume(store, spec, args.flag("force"));
    if (resumed && resumed->status == "finished") {
      if (world.size() > 1) coordinator::release_workers(world, state.gang_size);
      state.workers_released = true;
      if (!quiet)
        fmt::print("sweep {} \"{}\" has finished: nothing to resume\n", resumed->id, spec.name);
      print_leaderboard(db_path, resumed->id, top);
      return 0;
    }
  }
  std::FILE* log = quiet ? nullptr : stdout;
  coordinator::SweepDriver driver =
      resumed ? coordinator::SweepDriver(spec, store, log, *resumed, args.flag("force"))
              : coordinator::SweepDriver(spec, store, log);
  const int gangs = world.size() > 1 ? (world.size() - 1) / state.gang_size +
                                           (args.flag("coordinator-trains") ? 1 : 0)
                                     : 1;
  const int threads = spec.threads_per_worker > 0 ? spec.threads_per_worker : worker_threads;
  if (!quiet) {
    const std::string trials = driver.planned_trials() > 0
                                   ? fmt::format("{} trials", driver.planned_trials())
                                   : std::string("trials until the wall time");
    const std::string stopping =
        spec.early_stopping.rule == search::StoppingRule::kNone
            ? ""
            : ", early stopping " + search::to_string(spec.early_stopping.rule);
    const std::string ranks = world.size() > 1 && state.gang_size > 1
                                  ? fmt::format("{} gang(s) of {} ranks", gangs, state.gang_size)
                                  : fmt::format("{} training rank(s)", gangs);
    fmt::print("sweep {} \"{}\": {} ({}{}), {} {}, {} x {} thread(s) -> {}\n", driver.sweep_id(),
               spec.name, trials, search::to_string(spec.method), stopping,
               spec.objective.maximize ? "maximize" : "minimize", spec.objective.metric, ranks,
               threads, db_path);
    if (world.size() == 1 && spec.gpus_per_trial > 1) {
      fmt::print(
          "note: resources.gpus_per_trial {} needs mpirun -n 1+k*{}; one process trains "
          "each trial alone\n",
          spec.gpus_per_trial, spec.gpus_per_trial);
    }
    std::fflush(stdout);
  }
  if (world.size() == 1) {
    worker::set_intra_op_threads(threads);
    TrialRunnerForAssignment runner(runner_options);
    coordinator::run_in_process(driver, runner);
  } else {
    // --coordinator-trains: rank 0 also runs a worker, on a thread that makes no MPI call.
    LocalLink link;
    std::exception_ptr trainer_failure;
    std::thread trainer;
    if (args.flag("coordinator-trains")) {
      trainer = std::thread([&] {
        try {
          TrialRunnerForAssignment runner(runner_options);
          serve_trials_locally(link, runner);
        } catch (...) {
          trainer_failure = std::current_exception();
        }
      });
    }
    const int lost = coordinator::coordinate(world, state.gang_size, driver,
                                             trainer.joinable() ? &link : nullptr);
    if (trainer.joinable()) trainer.join();
    if (trainer_failure) std::rethrow_exception(trainer_failure);
    if (lost > 0) {
      // Hung workers cannot be released; what they ran is recorded as interrupted.
      driver.finish("interrupted");
      fmt::print(stderr,
                 "fersweep: {} worker(s) stopped reporting and never came back; aborting them. "
                 "`fersweep run {} --db {} --resume` runs what they left\n",
                 lost, args.positionals()[0], db_path);
      std::fflush(stderr);
      MPI_Abort(world.handle(), kExitFailure);
    }
  }
  state.workers_released = true;
  if (const int signal_number = stop_signal()) {
    driver.finish("interrupted");
    fmt::print(stderr,
               "fersweep: stopped by signal {}: {} running trial(s) interrupted; `fersweep run {} "
               "--db {} --resume` continues the sweep\n",
               signal_number, driver.interrupted(), args.positionals()[0], db_path);
    return 128 + signal_number;
  }
  driver.finish("finished");
  print_leaderboard(db_path, driver.sweep_id(), top);
  return 0;
}

}  // namespace

int run_command(int& argc, char**& argv, const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kRunHelp, stdout);
    return 0;
  }
  mpi::Session session(argc, argv);
  const mpi::Comm world = mpi::Comm::world();
  const int rank = world.rank();
  keep_freed_memory_for_reuse();  // training steps and TPE suggestions repeat their allocations
  CoordinatorState state;
  state.workers_released = world.size() == 1;
  try {
    // Every rank reads the same command line, so all get past here or none.
    const Args args(raw, {"quiet", "resume", "force", "coordinator-trains"},
                    {"db", "threads", "top", "checkpoints", "device"}, "fersweep run");
    args.expect_positionals(1, 1, "SPEC");
    args.required_option("db");
    // Collective: every rank must get here before ranks go separate ways.
    const mpi::NodePlacement placement =
        mpi::node_placement(world, args.flag("coordinator-trains"));
    const int auto_threads = std::max(1, hardware_threads() / placement.training_ranks);
    if (auto threads = args.int_option("threads", 1, 4096)) {
      worker::set_intra_op_threads(static_cast<int>(*threads));
    } else {
      worker::set_intra_op_threads(auto_threads);
    }
    worker::RunnerOptions runner_options;
    runner_options.device = device_for(args, placement);
    runner_options.default_memory_gb = default_memory_gb(args, runner_options.device, placement);
    if (rank != 0) {
      ignore_stop_signals();  // the coordinator winds the sweep down
      const int gang_size = share_gang_size(world, 0);
      if (gang_size == 0) return kExitInputError;  // rank 0 says why
      const std::optional<mpi::OwnedComm> gang = mpi::split(world, (rank - 1) / gang_size, rank);
      runner_options.gang = parallel::make_communicator(*gang, runner_options.device);
      TrialRunnerForAssignment runner(runner_options);
      serve_trials(world, *gang, runner);
      return 0;
    }
    install_stop_handlers();
    try {
      return coordinate_sweep(world, args, placement, worker::intra_op_threads(), runner_options,
                              state);
    } catch (const InputError&) {
      // Bad spec or database, found before any work was handed out: let the workers go.
      if (!state.workers_released) coordinator::release_workers(world, state.gang_size);
      state.workers_released = true;
      throw;
    }
  } catch (const InputError& e) {
    if (rank == 0) fmt::print(stderr, "fersweep: {}\n", e.what());
    return kExitInputError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fersweep: error on rank {}: {}\n", rank, e.what());
    std::fflush(stderr);
    if (!state.workers_released) MPI_Abort(MPI_COMM_WORLD, kExitFailure);
    return kExitFailure;
  }
}

}  // namespace fersweep::cli
