// A trial's training state: continued after epoch k, on a fresh runner and whatever LibTorch's
// generator holds meanwhile, a trial trains epochs k+1.. exactly as the uninterrupted trial did,
// bit for bit on the CPU, with Adam, a cosine schedule after warm-up, dropout, augmentation and
// balanced sampling all drawing random numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "common/state_files.h"
#include "worker/torch_runner.h"

namespace fersweep::worker {
namespace {

namespace fs = std::filesystem;

TrialAssignment assignment(int64_t id, const fs::path& states) {
  TrialAssignment a;
  a.trial_id = id;
  a.epochs = 4;
  a.seed = 21;
  a.data.train_size = 480;
  a.data.val_size = 96;
  a.data.seed = 4;
  a.threads = 1;
  a.state_dir = states.string();
  a.params = {{"filters", {8, 16}},
              {"convs_per_block", 1},
              {"dense", {32}},
              {"dropout", 0.3},
              {"batch_size", 32},
              {"lr", 0.003},
              {"optimizer", "adam"},
              {"schedule", "cosine"},
              {"warmup_epochs", 1},
              {"rotation", 10.0},
              {"brightness", 0.2},
              {"erasing", 0.25},
              {"class_balance", "balanced_sampling"}};
  return a;
}

TEST(TrainingState, AContinuedTrialTrainsTheEpochsTheUninterruptedOneWould) {
  const fs::path dir = fs::temp_directory_path() / "fersweep_training_state";
  fs::remove_all(dir);
  std::vector<EpochMetrics> whole;
  const TrialResult uninterrupted =
      run_trial(*make_torch_runner(), assignment(1, dir / "whole"), [&](const EpochMetrics& e) {
        whole.push_back(e);
        return Decision::kContinue;
      });
  ASSERT_EQ(uninterrupted.status, TrialStatus::kFinished) << uninterrupted.error;
  EXPECT_TRUE(fs::is_empty(dir / "whole")) << "a finished trial keeps no state";

  // Paused after epoch 2: its state stays.
  StateRef paused;
  const TrialResult first =
      run_trial(*make_torch_runner(), assignment(1, dir / "parts"), [&](const EpochMetrics& e) {
        paused = e.state;
        return e.epoch == 2 ? Decision::kPause : Decision::kContinue;
      });
  ASSERT_EQ(first.status, TrialStatus::kPaused) << first.error;
  ASSERT_EQ(paused.epoch, 2);
  ASSERT_EQ(file_digest(paused.path), paused.digest);

  // Continued by a new runner, after the process's generator has moved on.
  torch::manual_seed(987654321);
  torch::rand({1000});
  TrialAssignment rest = assignment(1, dir / "parts");
  rest.run = 1;
  rest.resume = paused;
  std::vector<EpochMetrics> continued;
  const TrialResult second = run_trial(*make_torch_runner(), rest, [&](const EpochMetrics& e) {
    continued.push_back(e);
    return Decision::kContinue;
  });
  ASSERT_EQ(second.status, TrialStatus::kFinished) << second.error;
  ASSERT_EQ(continued.size(), 2u);
  for (size_t i = 0; i < continued.size(); ++i) {
    EXPECT_EQ(continued[i].epoch, whole[i + 2].epoch);
    EXPECT_EQ(continued[i].values, whole[i + 2].values) << "epoch " << continued[i].epoch;
  }
  EXPECT_EQ(second.final_metrics, uninterrupted.final_metrics);
  EXPECT_EQ(second.confusion, uninterrupted.confusion);
  EXPECT_EQ(second.epochs_completed, 4);
  EXPECT_TRUE(fs::is_empty(dir / "parts")) << "the state it continued from is gone with it";

  // A damaged state fails the trial with a message naming the file; never a crash.
  std::ofstream(dir / "damaged.state") << "not an archive";
  rest.resume = {(dir / "damaged.state").string(), 2, 0};
  const TrialResult damaged = run_trial(*make_torch_runner(), rest,
                                        [](const EpochMetrics&) { return Decision::kContinue; });
  EXPECT_EQ(damaged.status, TrialStatus::kFailed);
  EXPECT_NE(damaged.error.find("damaged.state"), std::string::npos) << damaged.error;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fersweep::worker
