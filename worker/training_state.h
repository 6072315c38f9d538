#pragma once
// A trial's whole training state after an epoch, in one file (a LibTorch archive): weights and
// buffers, the optimizer's state, the schedule's, the batch stream's random stream, LibTorch's
// generator of every rank of the gang (dropout, stochastic depth), the best-model keeper's, and
// what the trial has measured so far. Continued from it, on the CPU with the same threads, a trial
// trains the epochs the uninterrupted one would have, bit for bit.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallel/communicator.h"
#include "worker/checkpoint.h"
#include "worker/train_step.h"

namespace fersweep::worker {

// What a trial has measured up to its newest epoch.
struct TrialProgress {
  int epoch = 0;
  std::map<std::string, double> metrics;  // the newest epoch's
  std::vector<int64_t> confusion;         // its validation matrix, row-major
  double train_seconds = 0;               // spent training, all epochs so far
};

// Collective over `gang`: every rank's generator state goes to the leader, which writes `path`
// (a temporary name: common/state_files.h renames it in).
void save_training_state(const std::string& path, TrainingSetup& setup,
                         const TrialProgress& progress, const BestModelKeeper& keeper,
                         parallel::Communicator& gang);

// Every rank of the gang reads `path` itself: weights, optimizer and schedule state, the batch
// stream's and its own generator's random state. Throws std::runtime_error naming the file when
// it is missing or damaged.
TrialProgress load_training_state(const std::string& path, TrainingSetup& setup,
                                  BestModelKeeper& keeper, int rank);

}  // namespace fersweep::worker
