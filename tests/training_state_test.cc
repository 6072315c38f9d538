// A trial's training state: continued after epoch k, on a fresh runner and whatever LibTorch's
// generator holds meanwhile, a trial trains epochs k+1.. exactly as the uninterrupted trial did,
// bit for bit on the CPU, with Adam, a cosine schedule after warm-up, dropout, augmentation and
// balanced sampling all drawing random numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "common/state_files.h"
#include "tests/test_paths.h"
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
  const fs::path dir = testing_paths::test_scratch_path("training_state");
  fs::remove_all(dir);
  std::vector<EpochMetrics> whole;
  const TrialResult uninterrupted =
      run_trial(*make_torch_runner(), assignment(1, dir / "whole"), [&](const EpochMetrics& e) {
        whole.push_back(e);
        return Decision::kContinue;
      });
  ASSERT_EQ(uninterrupted.status, TrialStatus::kFinished) << uninterrupted.error;
  // The worker leaves the state the database names (the coordinator removes it once the trial's
  // end is stored), so a job killed in between finishes the trial from it, training nothing.
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "whole"), fs::directory_iterator()), 1);
  EXPECT_EQ(file_digest(whole.back().state.path), whole.back().state.digest);
  TrialAssignment after_last = assignment(1, dir / "whole");
  after_last.run = 1;
  after_last.resume = whole.back().state;
  int epochs_trained = 0;
  const TrialResult from_last =
      run_trial(*make_torch_runner(), after_last, [&](const EpochMetrics&) {
        ++epochs_trained;
        return Decision::kContinue;
      });
  ASSERT_EQ(from_last.status, TrialStatus::kFinished) << from_last.error;
  EXPECT_EQ(epochs_trained, 0);
  EXPECT_EQ(from_last.epochs_completed, 4);
  EXPECT_EQ(from_last.final_metrics, uninterrupted.final_metrics);
  EXPECT_EQ(from_last.confusion, uninterrupted.confusion);

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
  // The state it continued from is gone; its own last one waits for the coordinator.
  EXPECT_FALSE(fs::exists(paused.path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "parts"), fs::directory_iterator()), 1);

  // A damaged state fails the trial with a message naming the file; never a crash.
  std::ofstream(dir / "damaged.state") << "not an archive";
  rest.resume = {(dir / "damaged.state").string(), 2, 0};
  const TrialResult damaged = run_trial(*make_torch_runner(), rest,
                                        [](const EpochMetrics&) { return Decision::kContinue; });
  EXPECT_EQ(damaged.status, TrialStatus::kFailed);
  EXPECT_NE(damaged.error.find("damaged.state"), std::string::npos) << damaged.error;
  fs::remove_all(dir);
}

// Population Based Training's exploit on the real trainer: a member that loads a copy of another
// trial's state continues that trial's training exactly (same params: the same epochs bit for
// bit), a mutated learning rate and dropout take effect, and the member's best model stays its
// own file with its own id and params.
TEST(TrainingState, AMemberContinuesACopiedStateWithItsNewParams) {
  const fs::path dir = testing_paths::test_scratch_path("pbt_state");
  fs::remove_all(dir);
  const fs::path states = dir / "states", models = dir / "models";
  TrialAssignment parent = assignment(1, states);
  parent.checkpoint_dir = models.string();
  parent.objective_metric = "val_accuracy";
  StateRef paused;
  ASSERT_EQ(run_trial(*make_torch_runner(), parent,
                      [&](const EpochMetrics& e) {
                        paused = e.state;
                        return e.epoch == 2 ? Decision::kPause : Decision::kContinue;
                      })
                .status,
            TrialStatus::kPaused);
  auto continue_as = [&](int64_t id, const nlohmann::json& changes) {
    const std::optional<StateRef> copy = copy_trial_state(paused, states.string(), id, 1);
    EXPECT_TRUE(copy.has_value());
    TrialAssignment member = assignment(id, states);
    member.checkpoint_dir = models.string();
    member.objective_metric = "val_accuracy";
    member.run = 1;
    member.resume = *copy;
    member.params.update(changes);
    std::vector<EpochMetrics> epochs;
    const TrialResult result = run_trial(*make_torch_runner(), member, [&](const EpochMetrics& e) {
      epochs.push_back(e);
      return Decision::kContinue;
    });
    EXPECT_EQ(result.status, TrialStatus::kFinished) << result.error;
    EXPECT_EQ(epochs.size(), 2u);
    return std::pair{result, epochs};
  };
  const auto [same, same_epochs] = continue_as(2, nlohmann::json::object());
  const auto [again, again_epochs] = continue_as(3, nlohmann::json::object());
  const auto [mutated, mutated_epochs] = continue_as(4, {{"lr", 0.0005}, {"dropout", 0.1}});
  EXPECT_EQ(same_epochs[0].values, again_epochs[0].values) << "a copy continues deterministically";
  EXPECT_EQ(same.final_metrics, again.final_metrics);
  EXPECT_NE(mutated_epochs[0].values.at("train_loss"), same_epochs[0].values.at("train_loss"))
      << "the new learning rate and dropout apply from the first epoch after the copy";
  for (const TrialResult* r : {&same, &mutated}) {
    ASSERT_FALSE(r->checkpoint.empty());
    const nlohmann::json description = nlohmann::json::parse(std::ifstream(r->checkpoint));
    EXPECT_EQ(description.at("trial_id").get<int64_t>(), r->trial_id) << r->checkpoint;
  }
  const nlohmann::json mutated_model = nlohmann::json::parse(std::ifstream(mutated.checkpoint));
  EXPECT_DOUBLE_EQ(mutated_model.at("params").at("lr").get<double>(), 0.0005);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fersweep::worker
