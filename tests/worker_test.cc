// The LibTorch trainer, exercised through its narrow header on tiny synthetic data.
#include "worker/torch_runner.h"

#include <gtest/gtest.h>

#include <numeric>

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
      {"batch_size", 32},           {"lr", 0.003}};
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
  const TrialAssignment a = tiny_assignment();
  const Recorded r = train(a);
  ASSERT_EQ(r.result.status, TrialStatus::kFinished) << r.result.error;
  EXPECT_EQ(r.result.trial_id, 17);
  ASSERT_EQ(r.epochs.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.epochs[i].epoch, i + 1);
  EXPECT_LT(r.epochs.back().values.at("train_loss"), r.epochs.front().values.at("train_loss"));
  EXPECT_EQ(r.result.epochs_completed, 5);

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

TEST(TorchRunner, StopDecisionEndsTheTrialAsPruned) {
  const Recorded r = train(tiny_assignment(), /*stop_after_epoch=*/1);
  EXPECT_EQ(r.result.status, TrialStatus::kPruned);
  EXPECT_EQ(r.result.epochs_completed, 1);
  EXPECT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(std::accumulate(r.result.confusion.begin(), r.result.confusion.end(), int64_t{0}), 210);
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

}  // namespace
}  // namespace fersweep::worker
