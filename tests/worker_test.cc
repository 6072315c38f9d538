// The LibTorch trainer, exercised through its narrow header on tiny synthetic data.
#include "worker/torch_runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "data/synthetic_formats.h"
#include "tests/test_paths.h"
#include "worker/schedule.h"

namespace fersweep::worker {
namespace {

TrialAssignment tiny_assignment() {
  TrialAssignment a;
  a.trial_id = 17;
  a.epochs = 5;
  a.seed = 1234;
  a.data.train_size = 1400;
  a.data.val_size = 210;
  a.data.seed = 3;
  a.threads = 1;
  a.params = {
      {"filters", {8, 16, 32, 64}}, {"convs_per_block", 1}, {"dense", {32}}, {"dropout", 0.1},
      {"batch_size", 16},           {"lr", 0.001}};
  return a;
}

struct Recorded {
  TrialResult result;
  std::vector<EpochMetrics> epochs;
};

Recorded train(const TrialAssignment& a, int stop_after_epoch = 0) {
  auto runner = make_torch_runner();
  Recorded out;
  out.result = run_trial(*runner, a, [&](const EpochMetrics& e) {
    out.epochs.push_back(e);
    return e.epoch == stop_after_epoch ? Decision::kStop : Decision::kContinue;
  });
  return out;
}

// Parameter count of the VGG layout, computed by hand: a 3x3 conv from ci to co channels has
// 9*ci*co weights plus co biases (or, with batch-norm, no bias but 2*co affine parameters).
TEST(TorchRunner, ParameterCountMatchesTheLayoutArithmetic) {
  auto conv = [](int64_t ci, int64_t co, bool bn) { return 9 * ci * co + (bn ? 2 * co : co); };
  for (bool bn : {false, true}) {
    TrialConfig c;
    c.filters = {32, 64, 128, 256};
    c.convs_per_block = 2;
    c.batch_norm = bn;
    c.dense = {256};
    int64_t expected = conv(1, 32, bn) + conv(32, 32, bn) + conv(32, 64, bn) + conv(64, 64, bn) +
                       conv(64, 128, bn) + conv(128, 128, bn) + conv(128, 256, bn) +
                       conv(256, 256, bn);
    expected += (3 * 3 * 256) * 256 + 256;  // 48 px halved four times -> 3x3x256 features
    expected += 256 * 7 + 7;
    EXPECT_EQ(parameter_count(c, 7, 48), expected) << "batch_norm=" << bn;
  }
  EXPECT_EQ(parameter_count(TrialConfig{}, 7, 48), 1'764'519);
}

TEST(TorchRunner, TrainsReportsEveryEpochAndLearnsWellAboveChance) {
  TrialAssignment a = tiny_assignment();
  // At 5 epochs validation accuracy was 0.34 with OpenBLAS on an AMD EPYC and 0.44 with the
  // reference BLAS: this early, the BLAS's rounding moves it across any fixed bar. At 8 it was
  // 0.50 and 0.61.
  a.epochs = 8;
  const Recorded r = train(a);
  ASSERT_EQ(r.result.status, TrialStatus::kFinished) << r.result.error;
  EXPECT_EQ(r.result.trial_id, 17);
  ASSERT_EQ(r.epochs.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(r.epochs[i].epoch, i + 1);
  EXPECT_LT(r.epochs.back().values.at("train_loss"), r.epochs.front().values.at("train_loss"));
  EXPECT_EQ(r.result.epochs_completed, 8);

  // The confusion matrix covers the validation set exactly once.
  ASSERT_EQ(r.result.class_names.size(), 7u);
  ASSERT_EQ(r.result.confusion.size(), 49u);
  EXPECT_EQ(std::accumulate(r.result.confusion.begin(), r.result.confusion.end(), int64_t{0}), 210);
  int64_t support = 0, diagonal = 0;
  for (const auto& m : r.result.per_class) support += m.support;
  for (int c = 0; c < 7; ++c) diagonal += r.result.confusion[c * 7 + c];
  EXPECT_EQ(support, 210);

  // Final metrics are the last epoch's and agree with the matrix.
  EXPECT_DOUBLE_EQ(r.result.final_metrics.at("val_accuracy"),
                   r.epochs.back().values.at("val_accuracy"));
  EXPECT_DOUBLE_EQ(r.result.final_metrics.at("val_accuracy"), diagonal / 210.0);
  EXPECT_GT(r.result.final_metrics.at("val_accuracy"), 0.35);  // chance is 1/7
  EXPECT_GT(r.result.images_per_second, 0);
  EXPECT_GT(r.result.param_count, 0);
}

TEST(TorchRunner, SameAssignmentGivesTheSameMetricsOnCpu) {
  TrialAssignment a = tiny_assignment();
  a.epochs = 2;
  const Recorded first = train(a), second = train(a);
  ASSERT_EQ(first.result.status, TrialStatus::kFinished) << first.result.error;
  EXPECT_EQ(first.result.confusion, second.result.confusion);
  EXPECT_EQ(first.result.final_metrics, second.result.final_metrics);
  a.seed += 1;
  EXPECT_NE(train(a).result.final_metrics, first.result.final_metrics);
}

// bfloat16 autocast is a different computation, so it must give other numbers than float32 (a
// flag that changed nothing would pass everything else here), and still learn and repeat itself.
TEST(TorchRunner, Bf16PrecisionTrainsReproduciblyAndDiffersFromFp32) {
  TrialAssignment a = tiny_assignment();
  a.epochs = 2;
  const Recorded fp32 = train(a);
  a.precision = Precision::kBf16;
  const Recorded bf16 = train(a), again = train(a);
  ASSERT_EQ(bf16.result.status, TrialStatus::kFinished) << bf16.result.error;
  EXPECT_EQ(bf16.result.final_metrics, again.result.final_metrics);
  EXPECT_NE(bf16.result.final_metrics.at("train_loss"), fp32.result.final_metrics.at("train_loss"));
  // Same data and seed: the two precisions follow nearly the same path.
  EXPECT_NEAR(bf16.result.final_metrics.at("train_loss"),
              fp32.result.final_metrics.at("train_loss"), 0.1);
  EXPECT_LT(bf16.epochs.back().values.at("train_loss"), std::log(7.0));  // below chance's loss
}

// bf16 on the CPU with each activation the zoo uses: ReLU (ResNet), ReLU6 (MobileNetV2, whose
// backward pass LibTorch 1.13 has no bfloat16 CPU kernel for) and SiLU (EfficientNet).
TEST(TorchRunner, Bf16PrecisionTrainsEveryActivationOnTheCpu) {
  for (const nlohmann::json& params :
       {nlohmann::json{{"arch", "resnet18"}, {"stem", "imagenet"}},
        nlohmann::json{{"arch", "mobilenet_v2"}, {"stem", "imagenet"}, {"width_multiplier", 0.25}},
        nlohmann::json{{"arch", "efficientnet_b0"}, {"stem", "imagenet"}}}) {
    TrialAssignment a = tiny_assignment();
    a.epochs = 1;
    a.data.train_size = 64;
    a.data.val_size = 14;
    a.precision = Precision::kBf16;
    a.params = params;
    a.params["batch_size"] = 16;
    const Recorded r = train(a);
    ASSERT_EQ(r.result.status, TrialStatus::kFinished) << params.dump() << ": " << r.result.error;
    EXPECT_TRUE(std::isfinite(r.epochs.back().values.at("train_loss"))) << params.dump();
  }
}

TEST(TorchRunner, StopDecisionEndsTheTrialAsPruned) {
  const Recorded r = train(tiny_assignment(), /*stop_after_epoch=*/1);
  EXPECT_EQ(r.result.status, TrialStatus::kPruned);
  EXPECT_EQ(r.result.epochs_completed, 1);
  EXPECT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(std::accumulate(r.result.confusion.begin(), r.result.confusion.end(), int64_t{0}), 210);
}

// ASHA's report deadline: an epoch that runs past its allowance is cut at the next step, and the
// trial ends pruned (not failed) with what it last reported.
TEST(TorchRunner, AnEpochPastItsReportAllowanceEndsTheTrialPruned) {
  TrialAssignment a = tiny_assignment();
  a.epochs = 3;
  a.report_allowance_seconds = 1e-6;  // gone by the second step
  const Recorded silent = train(a);
  EXPECT_EQ(silent.result.status, TrialStatus::kPruned) << silent.result.error;
  EXPECT_EQ(silent.result.epochs_completed, 0);
  EXPECT_TRUE(silent.epochs.empty());
  EXPECT_NE(silent.result.error.find("epoch 1 ran"), std::string::npos) << silent.result.error;

  // The first epoch may take its time; the decision after it allows the second almost none.
  a.report_allowance_seconds = 0;
  auto runner = make_torch_runner();
  std::vector<EpochMetrics> epochs;
  const TrialResult result = run_trial(*runner, a, [&](const EpochMetrics& e) {
    epochs.push_back(e);
    return EpochVerdict(Decision::kContinue, 1e-6);
  });
  EXPECT_EQ(result.status, TrialStatus::kPruned) << result.error;
  EXPECT_EQ(result.epochs_completed, 1);
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(result.final_metrics.at("val_accuracy"), epochs[0].values.at("val_accuracy"));
  EXPECT_NE(result.error.find("epoch 2 ran"), std::string::npos) << result.error;

  // The allowance is the trial's: the runner's next trial trains all its epochs.
  a.epochs = 1;
  EXPECT_EQ(run_trial(*runner, a, [](const EpochMetrics&) { return Decision::kContinue; }).status,
            TrialStatus::kFinished);
}

TEST(TorchRunner, UnbuildableConfigFailsTheTrialNotTheWorker) {
  TrialAssignment a = tiny_assignment();
  a.data.image_size = 16;
  a.params["filters"] = {4, 4, 4, 4, 4};  // five poolings of 16 px leave nothing
  const Recorded r = train(a);
  EXPECT_EQ(r.result.status, TrialStatus::kFailed);
  EXPECT_NE(r.result.error.find("filters: 5 pooling blocks shrink a 16 px image"),
            std::string::npos)
      << r.result.error;
  EXPECT_TRUE(r.epochs.empty());
}

TEST(TorchRunner, RefusesATrialThatDoesNotFitTheMemoryBudgetBeforeTraining) {
  TrialAssignment a = tiny_assignment();
  a.params["batch_size"] = 512;
  a.memory_gb = 0.01;  // 10 MiB: the weights fit, 512 images of activations do not
  const Recorded r = train(a);
  ASSERT_EQ(r.result.status, TrialStatus::kFailed);
  EXPECT_TRUE(r.epochs.empty());
  EXPECT_NE(r.result.error.find("resources.memory_gb allows 0.01 GiB"), std::string::npos)
      << r.result.error;
  EXPECT_NE(r.result.error.find("lower batch_size to"), std::string::npos) << r.result.error;

  a.memory_gb = 0.0005;  // not even the data
  const Recorded none = train(a);
  EXPECT_NE(none.result.error.find("even batch_size 1 does not fit"), std::string::npos)
      << none.result.error;

  a.memory_gb = 8;
  a.epochs = 1;
  EXPECT_EQ(train(a).result.status, TrialStatus::kFinished);
}

// Costs come from the untrained network: size and arithmetic always, memory and latency when
// asked. Memory grows with the batch; the size matches the model's own count.
TEST(TorchRunner, MeasuresCostsBeforeTraining) {
  TrialAssignment a = tiny_assignment();
  a.data.train_size = 70;
  a.data.val_size = 14;
  auto runner = make_torch_runner();
  const auto basic = runner->measure_costs(a);
  EXPECT_EQ(basic.size(), 2u);
  const TrialConfig config = TrialConfig::from_params(a.params);
  EXPECT_EQ(basic.at("param_count"),
            static_cast<double>(parameter_count(config, 7, a.data.image_size)));
  EXPECT_GT(basic.at("flops"), 2 * basic.at("param_count")) << "convolutions reuse weights";

  a.cost_request = {.memory = true, .latency = true, .inference_batch = 4, .latency_repeats = 2};
  const auto full = runner->measure_costs(a);
  EXPECT_EQ(full.at("param_count"), basic.at("param_count"));
  EXPECT_EQ(full.at("flops"), basic.at("flops"));
  EXPECT_GT(full.at("inference_ms"), 0);
  EXPECT_GT(full.at("batch_inference_ms"), 0);
  const double weights_mb = 4 * basic.at("param_count") / (1024.0 * 1024.0);
  EXPECT_GT(full.at("train_memory_mb"), 4 * weights_mb) << "weights, gradients, Adam's 2 slots";
  a.params["batch_size"] = 64;
  EXPECT_GT(runner->measure_costs(a).at("train_memory_mb"), full.at("train_memory_mb"));
}

// Every architecture of the zoo trains through the same runner (small stems, one short epoch).
TEST(TorchRunner, EveryArchitectureTrainsAnEpoch) {
  for (const std::string& arch : architecture_names()) {
    TrialAssignment a = tiny_assignment();
    a.epochs = 1;
    a.data.train_size = 64;
    a.data.val_size = 21;
    a.data.image_size = 32;
    a.params = {{"arch", arch}, {"stem", "small"}, {"batch_size", 32}, {"lr", 1e-3}};
    if (arch == "vgg_custom") a.params["filters"] = {8, 16};
    const Recorded r = train(a);
    EXPECT_EQ(r.result.status, TrialStatus::kFinished) << arch << ": " << r.result.error;
    EXPECT_EQ(r.epochs.size(), 1u) << arch;
    EXPECT_GT(r.result.param_count, 0) << arch;
  }
}

TEST(TorchRunner, TrainingOptionsAreApplied) {
  TrialAssignment a = tiny_assignment();
  a.epochs = 2;
  a.params.update({{"optimizer", "sgd"},
                   {"lr", 0.05},
                   {"momentum", 0.9},
                   {"nesterov", true},
                   {"schedule", "cosine"},
                   {"warmup_epochs", 1},
                   {"label_smoothing", 0.1},
                   {"grad_clip", 1.0}});
  const Recorded smoothed = train(a);
  ASSERT_EQ(smoothed.result.status, TrialStatus::kFinished) << smoothed.result.error;
  a.params["label_smoothing"] = 0.0;
  const Recorded plain = train(a);
  EXPECT_NE(smoothed.epochs.front().values.at("train_loss"),
            plain.epochs.front().values.at("train_loss"));

  a.params["nesterov"] = true;
  a.params["momentum"] = 0.0;
  const Recorded bad = train(a);
  EXPECT_EQ(bad.result.status, TrialStatus::kFailed);
  EXPECT_NE(bad.result.error.find("parameters.nesterov"), std::string::npos) << bad.result.error;
}

TEST(LrSchedule, StepDecaysEveryStepSizeEpochs) {
  TrialConfig c;
  c.lr = 0.1;
  c.schedule = Schedule::kStep;
  c.step_size = 2;
  c.lr_decay = 0.5;
  const LrSchedule s(c, 6, 10);
  EXPECT_DOUBLE_EQ(s.at(1, 0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(2, 9), 0.1);
  EXPECT_DOUBLE_EQ(s.at(3, 0), 0.05);
  EXPECT_DOUBLE_EQ(s.at(6, 5), 0.025);
}

TEST(LrSchedule, CosineWarmsUpLinearlyThenAnnealsToMinLr) {
  TrialConfig c;
  c.lr = 0.2;
  c.min_lr = 0.02;
  c.schedule = Schedule::kCosine;
  c.warmup_epochs = 1;
  const LrSchedule s(c, 5, 4);  // 4 warm-up steps of 20
  EXPECT_DOUBLE_EQ(s.at(1, 0), 0.2 / 4);
  EXPECT_DOUBLE_EQ(s.at(1, 3), 0.2);
  EXPECT_DOUBLE_EQ(s.at(2, 0), 0.2);  // start of the cosine
  EXPECT_NEAR(s.at(3, 0), 0.02 + 0.09 * (1 + std::cos(M_PI * 4 / 16)), 1e-15);
  EXPECT_NEAR(s.at(5, 3), 0.02 + 0.09 * (1 + std::cos(M_PI * 15 / 16)), 1e-15);
  EXPECT_GT(s.at(5, 3), 0.02);

  c.min_lr = 0.3;
  EXPECT_THROW(LrSchedule(c, 5, 4), InputError);
}

TEST(LrSchedule, PlateauDecaysAfterPatienceEpochsWithoutImprovement) {
  TrialConfig c;
  c.lr = 1.0;
  c.schedule = Schedule::kPlateau;
  c.plateau_patience = 1;
  c.lr_decay = 0.1;
  c.min_lr = 0.005;
  LrSchedule s(c, 10, 1);
  s.end_epoch(1.0);      // best
  s.end_epoch(0.99995);  // within the 1e-4 relative threshold: not an improvement (1 bad)
  EXPECT_DOUBLE_EQ(s.at(3, 0), 1.0);
  s.end_epoch(1.2);  // 2 bad > patience 1: decay
  EXPECT_DOUBLE_EQ(s.at(4, 0), 0.1);
  s.end_epoch(0.5);  // improvement resets
  s.end_epoch(0.6);
  EXPECT_DOUBLE_EQ(s.at(6, 0), 0.1);
  s.end_epoch(0.6);
  EXPECT_DOUBLE_EQ(s.at(7, 0), 0.01);
  s.end_epoch(0.7);
  s.end_epoch(0.7);
  EXPECT_DOUBLE_EQ(s.at(9, 0), 0.005);  // floored at min_lr
}

TEST(TorchRunner, AugmentationAndClassBalanceOptionsChangeTrainingReproducibly) {
  TrialAssignment a = tiny_assignment();
  a.epochs = 1;
  a.data.train_size = 256;
  a.data.val_size = 70;
  const double plain = train(a).epochs.front().values.at("train_loss");
  const std::vector<nlohmann::json> options = {{{"rotation", 15}},
                                               {{"brightness", 0.4}, {"contrast", 0.4}},
                                               {{"erasing", 0.5}},
                                               {{"flip", false}, {"shift", 0}},
                                               {{"class_balance", "weighted_loss"}},
                                               {{"class_balance", "balanced_sampling"}}};
  for (const nlohmann::json& option : options) {
    TrialAssignment changed = a;
    changed.params.update(option);
    const Recorded first = train(changed), second = train(changed);
    ASSERT_EQ(first.result.status, TrialStatus::kFinished) << option << first.result.error;
    const double loss = first.epochs.front().values.at("train_loss");
    EXPECT_NE(loss, plain) << option;
    EXPECT_EQ(loss, second.epochs.front().values.at("train_loss")) << option;
  }
  a.params["class_balance"] = "oversample";
  const Recorded bad = train(a);
  EXPECT_NE(bad.result.error.find("parameters.class_balance"), std::string::npos)
      << bad.result.error;
}

// A worker keeps decoded sources for its later trials; a trial with another crop must not be
// served the images decoded for the first one.
TEST(TorchRunner, ReusedSourcesKeepEachTrialsCrop) {
  const std::string dir = testing_paths::test_scratch_path("crop_cache");
  data::write_synthetic({"jaffe", dir, 140, 1, 96});
  TrialAssignment a = tiny_assignment();
  a.epochs = 1;
  a.data = DataConfig::from_spec(
      {{"image_size", 32}, {"sources", {{"jaffe", {{"format", "jaffe"}, {"path", dir}}}}}}, "data");
  a.params = {{"filters", {8, 16}}, {"convs_per_block", 1}, {"dense", {16}}, {"batch_size", 16}};
  TrialAssignment face = a;
  face.params["crop"] = "face";
  const auto metrics = [](std::unique_ptr<TrialRunner>& runner, const TrialAssignment& trial) {
    const TrialResult r =
        run_trial(*runner, trial, [](const EpochMetrics&) { return Decision::kContinue; });
    EXPECT_EQ(r.status, TrialStatus::kFinished) << r.error;
    return r.final_metrics;
  };
  auto fresh = make_torch_runner();
  const auto face_alone = metrics(fresh, face);
  auto reused = make_torch_runner();
  const auto none_first = metrics(reused, a);
  EXPECT_EQ(metrics(reused, face), face_alone);
  EXPECT_NE(none_first, face_alone);  // the crop changes what the network sees
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fersweep::worker
