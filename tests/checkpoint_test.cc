// The best-model checkpoint: written while a trial trains, rebuilt from its own description, and
// scoring on the validation set exactly what the trial recorded for that epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/metrics.h"
#include "data/synthetic_faces.h"
#include "tests/test_paths.h"
#include "worker/batches.h"
#include "worker/checkpoint.h"
#include "worker/torch_runner.h"

namespace fersweep::worker {
namespace {

namespace fs = std::filesystem;

double accuracy_of(models::ClassifierImpl& model, const DataConfig& config) {
  data::SyntheticOptions options;
  options.image_size = config.image_size;
  options.seed = config.seed;
  options.count = config.val_size;
  options.split = 1;
  const TensorDataset val = to_tensors(data::generate_synthetic_faces(options));
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Tensor predicted = model.forward(normalise(val.images)).argmax(1);
  return predicted.eq(val.labels).sum().item<double>() / static_cast<double>(val.size());
}

TEST(Checkpoint, KeepsTheBestEpochAndRebuildsItExactly) {
  const fs::path dir = testing_paths::test_scratch_path("checkpoint_test");
  fs::remove_all(dir);
  TrialAssignment a;
  a.trial_id = 5;
  a.epochs = 4;
  a.seed = 11;
  a.data.train_size = 700;
  a.data.val_size = 140;
  a.data.seed = 2;
  a.threads = 1;
  a.checkpoint_dir = dir.string();
  a.objective_metric = "val_accuracy";
  a.maximize = true;
  a.params = {{"filters", {8, 16, 32}},
              {"convs_per_block", 1},
              {"dense", {32}},
              {"batch_size", 32},
              {"lr", 0.003}};
  std::vector<EpochMetrics> epochs;
  auto runner = make_torch_runner();
  const TrialResult result = run_trial(*runner, a, [&](const EpochMetrics& e) {
    epochs.push_back(e);
    return Decision::kContinue;
  });
  ASSERT_EQ(result.status, TrialStatus::kFinished) << result.error;
  ASSERT_EQ(result.checkpoint, (dir / "trial_000005.json").string());

  // The first epoch reaching the best accuracy is the one kept.
  int best_epoch = 0;
  double best = -1;
  for (const auto& e : epochs) {
    if (e.values.at("val_accuracy") > best)
      best = e.values.at("val_accuracy"), best_epoch = e.epoch;
  }
  // Only the best epoch's weights remain, named by the description.
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{fmt::format("trial_000005.e{:04d}.pt", best_epoch),
                                             "trial_000005.json"}));
  const LoadedCheckpoint loaded = load_checkpoint(result.checkpoint);
  EXPECT_EQ(loaded.description.at("epoch").get<int>(), best_epoch);
  EXPECT_DOUBLE_EQ(loaded.description.at("value").get<double>(), best);
  EXPECT_EQ(loaded.description.at("params"), a.params);
  EXPECT_EQ(loaded.description.at("class_names").size(), 7u);
  EXPECT_DOUBLE_EQ(accuracy_of(*loaded.model, a.data), best);
  fs::remove_all(dir);
}

// A description and the weights it names always belong together: weights written for a new best
// epoch are invisible until the description naming them replaces the old one, so a crash between
// the two steps leaves the previous pair whole (before, both files were renamed in turn and a
// crash between the renames paired the new weights with the old description).
TEST(Checkpoint, ACrashBetweenWeightsAndDescriptionLeavesTheOldPairWhole) {
  const fs::path dir = testing_paths::test_scratch_path("checkpoint_pair");
  fs::remove_all(dir);
  TrialConfig config;
  config.filters = {4, 8};
  config.dense = {8};
  const models::ModelOptions options = models::model_options(config, 7, 48);
  const auto filled = [&](double value) {
    models::Classifier model = models::make_model(options);
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.fill_(value);
    return model;
  };
  const auto description = [&](int epoch) {
    return nlohmann::json{
        {"params", nlohmann::json::object()}, {"model", to_json(options)}, {"epoch", epoch}};
  };
  const auto weights_of = [](const LoadedCheckpoint& c) {
    return c.model->parameters().front().flatten()[0].item<double>();
  };
  const std::string json = save_checkpoint(dir.string(), 7, filled(0.25), description(1));
  // The crash: epoch 2's weights are on disk, its description never committed.
  const std::string epoch2 = write_checkpoint_weights(dir.string(), 7, 2, filled(0.75));
  LoadedCheckpoint loaded = load_checkpoint(json);
  EXPECT_EQ(loaded.description.at("epoch"), 1);
  EXPECT_DOUBLE_EQ(weights_of(loaded), 0.25);
  // Committed, the pair moves on together and epoch 1's weights go.
  EXPECT_EQ(commit_checkpoint(dir.string(), 7, epoch2, description(2)), json);
  loaded = load_checkpoint(json);
  EXPECT_EQ(loaded.description.at("epoch"), 2);
  EXPECT_DOUBLE_EQ(weights_of(loaded), 0.75);
  EXPECT_FALSE(fs::exists(dir / "trial_000007.e0001.pt"));
  fs::remove_all(dir);
}

TEST(Checkpoint, BadFilesAreInputErrorsNamingThem) {
  const fs::path dir = testing_paths::test_scratch_path("checkpoint_bad");
  fs::create_directories(dir);
  const fs::path json = dir / "trial_000001.json";
  std::ofstream(json) << R"({"model": {"arch": "resnet18"}})";
  try {
    load_checkpoint(json.string());
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(json.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_checkpoint((dir / "missing.json").string()), InputError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fersweep::worker
