#pragma once
// What `fersweep run` was asked to do, as every rank reads it from the same command line, and what
// the lifecycle needs of the training side, given by the caller so that the coordinator library
// needs no LibTorch.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "comm/mpi_checked.h"
#include "comm/placement.h"
#include "common/trial.h"

namespace fersweep::coordinator {

struct RunOptions {
  std::string spec_path;
  std::string db_path;
  bool quiet = false;
  bool resume = false;
  bool force = false;  // resume a sweep whose spec changed
  // --enqueue: a file of configs for the newest sweep of the spec's name to run next.
  std::string enqueue_path;
  bool coordinator_trains = false;  // rank 0 trains too
  std::optional<int> threads;       // --threads: LibTorch intra-op threads per training rank
  // --checkpoints: a directory, "none", or empty for the default beside the database.
  std::string checkpoints;
  // --state-dir: where trials keep their training state; empty: beside the database.
  std::string state_dir;
  DeviceRequest device;
  int top = 5;  // leaderboard rows printed at the end
};

struct TrainingSide {
  MachineFacts machine;  // of this rank's node
  // Sets this process's LibTorch intra-op threads.
  std::function<void(int threads)> set_threads;
  // The runner of a rank placed at `placement`, training alone (`gang` null) or with the ranks of
  // `gang` (collective over it).
  std::function<std::unique_ptr<TrialRunner>(const RankPlacement& placement, const mpi::Comm* gang)>
      make_runner;
};

}  // namespace fersweep::coordinator
