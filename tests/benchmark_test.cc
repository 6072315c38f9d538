#include "benchmarks/functions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "benchmarks/benchmark_runner.h"
#include "common/error.h"

namespace fersweep::benchmarks {
namespace {

using std::numbers::pi;

TEST(Branin, HasItsThreeKnownMinima) {
  const double minimum = find_benchmark("branin")->minimum.value();
  EXPECT_NEAR(branin(-pi, 12.275), minimum, 1e-6);
  EXPECT_NEAR(branin(pi, 2.275), minimum, 1e-6);
  EXPECT_NEAR(branin(9.42478, 2.475), minimum, 1e-6);
  EXPECT_NEAR(branin(0, 0), 55.602113, 1e-5);  // a reference value away from the minima
  for (double x1 = -5; x1 <= 10; x1 += 0.25) {
    for (double x2 = 0; x2 <= 15; x2 += 0.25) EXPECT_GE(branin(x1, x2), minimum - 1e-9);
  }
}

TEST(Hartmann6, HasItsKnownMinimum) {
  const double minimum = find_benchmark("hartmann6")->minimum.value();
  EXPECT_NEAR(hartmann6({0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}), minimum, 1e-5);
  EXPECT_GT(hartmann6({0.5, 0.5, 0.5, 0.5, 0.5, 0.5}), minimum + 0.5);
}

// BOCA's form: each peak's weight lowered by 0.1 (1 - fidelity). At full fidelity it is
// Hartmann-6; below it every point is worse by exactly that share of its peaks' terms.
TEST(Hartmann6, ItsFidelityFormEndsAtHartmann6AndLowerFidelitiesAreWorse) {
  const std::array<double, 6> optimum{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
  const std::array<double, 6> middle{0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
  for (const auto& x : {optimum, middle}) {
    EXPECT_DOUBLE_EQ(hartmann6_fidelity(x, 1.0), hartmann6(x));
    const double at_zero = hartmann6_fidelity(x, 0.0), at_half = hartmann6_fidelity(x, 0.5);
    EXPECT_GT(at_zero, at_half);
    EXPECT_GT(at_half, hartmann6(x));
    EXPECT_NEAR(at_zero - at_half, at_half - hartmann6(x), 1e-12) << "linear in the fidelity";
  }
  for (const double z : {0.0, 0.3, 0.7}) {
    EXPECT_LT(hartmann6_fidelity(optimum, z), hartmann6_fidelity(middle, z)) << "fidelity " << z;
  }
}

TEST(Zdt, FrontsAreTheKnownCurvesAndTheRestLiesBehind) {
  std::vector<double> x(kZdtDims, 0.0);
  for (double f1 : {0.0, 0.25, 1.0}) {
    x[0] = f1;
    EXPECT_DOUBLE_EQ(zdt1(x)[1], 1 - std::sqrt(f1));
    EXPECT_DOUBLE_EQ(zdt2(x)[1], 1 - f1 * f1);
  }
  std::fill(x.begin(), x.end(), 1.0);  // g = 10 at the far corner
  EXPECT_DOUBLE_EQ(zdt1(x)[1], 10 * (1 - std::sqrt(0.1)));
  EXPECT_DOUBLE_EQ(zdt2(x)[1], 10 * (1 - 0.01));
  EXPECT_EQ(find_benchmark("zdt1")->parameters.size(), 30u);
  EXPECT_EQ(find_benchmark("zdt2")->metrics, (std::vector<std::string>{"f1", "f2"}));
}

TEST(Dtlz2, FrontIsTheUnitSphereAndDistanceScalesIt) {
  std::vector<double> x(kDtlz2Dims, 0.5);
  for (double a : {0.0, 0.3, 1.0}) {
    x[0] = a;
    x[1] = 1 - a / 2;
    const auto f = dtlz2(x);
    EXPECT_NEAR(f[0] * f[0] + f[1] * f[1] + f[2] * f[2], 1, 1e-12);
  }
  x[0] = x[1] = 0;
  x[5] = 1;  // g = 0.25
  EXPECT_NEAR(dtlz2(x)[0], 1.25, 1e-12);
  EXPECT_EQ(find_benchmark("dtlz2")->metrics, (std::vector<std::string>{"f1", "f2", "f3"}));
}

TEST(LearningCurve, RisesWithEpochsAndPeaksNearTheSweetSpot) {
  double previous = 0;
  for (int epoch = 1; epoch <= 30; ++epoch) {
    const CurvePoint p = learning_curve(1e-3, 0.3, 64, epoch);
    EXPECT_GT(p.val_accuracy, previous);
    EXPECT_GE(p.train_accuracy, p.val_accuracy);
    EXPECT_NEAR(p.val_loss, -std::log(p.val_accuracy), 1e-12);
    previous = p.val_accuracy;
  }
  EXPECT_GT(learning_curve(1e-3, 0.3, 64, 30).val_accuracy,
            learning_curve(3e-2, 0.3, 64, 30).val_accuracy);
  // High learning rates learn faster but plateau lower: the curves cross.
  EXPECT_GT(learning_curve(1e-2, 0.3, 64, 1).val_accuracy,
            learning_curve(1e-4, 0.3, 64, 1).val_accuracy);
  EXPECT_LT(learning_curve(1e-2, 0.3, 64, 27).val_accuracy,
            learning_curve(3e-4, 0.3, 64, 27).val_accuracy);
}

// Wider networks plateau higher (with diminishing returns) and are bigger; how fast they learn
// per epoch is the benchmark's width_speed.
TEST(LearningCurve, WidthTradesSizeForAccuracyAtTheSpeedTheSettingSays) {
  EXPECT_DOUBLE_EQ(curve_network_mparams(1), 1.328102);
  EXPECT_DOUBLE_EQ(curve_network_mparams(2), 4 * 1.328102);
  const double narrow = learning_curve(1e-3, 0.3, 64, 200, 0.5).val_accuracy;
  const double reference = learning_curve(1e-3, 0.3, 64, 200, 1).val_accuracy;
  const double wide = learning_curve(1e-3, 0.3, 64, 200, 2).val_accuracy;
  EXPECT_LT(narrow, reference);
  EXPECT_LT(reference, wide);
  EXPECT_LT(wide - reference, reference - narrow) << "each doubling pays less";
  EXPECT_DOUBLE_EQ(learning_curve(1e-3, 0.3, 64, 5).val_accuracy,
                   learning_curve(1e-3, 0.3, 64, 5, 1, -0.5).val_accuracy)
      << "width 1 is the plain learning curve whatever the speed setting";
  // At epoch 1 a wide network is behind the reference one when it learns more slowly.
  EXPECT_LT(learning_curve(1e-3, 0.3, 64, 1, 4, -0.5).val_accuracy,
            learning_curve(1e-3, 0.3, 64, 1, 1, -0.5).val_accuracy);
  EXPECT_GT(learning_curve(1e-3, 0.3, 64, 1, 4, 0.25).val_accuracy,
            learning_curve(1e-3, 0.3, 64, 1, 1, 0.25).val_accuracy);
}

TrialAssignment assignment(const char* function, nlohmann::json params, int epochs) {
  TrialAssignment a;
  a.trial_id = 7;
  a.params = std::move(params);
  a.epochs = epochs;
  a.seed = 3;
  a.benchmark = {{"function", function}, {"noise_sd", 0.0}, {"seconds_per_epoch", 0.0}};
  return a;
}

TEST(BenchmarkRunner, ReportsEveryEpochAndObeysStop) {
  auto runner = make_benchmark_runner();
  std::vector<EpochMetrics> seen;
  const TrialResult full = run_trial(*runner, assignment("learning_curve", {{"lr", 0.01}}, 5),
                                     [&](const EpochMetrics& e) {
                                       seen.push_back(e);
                                       return Decision::kContinue;
                                     });
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(full.status, TrialStatus::kFinished);
  EXPECT_EQ(full.epochs_completed, 5);
  EXPECT_EQ(full.final_metrics, seen.back().values);
  EXPECT_DOUBLE_EQ(seen[2].values.at("val_accuracy"),
                   learning_curve(0.01, 0.5, 64, 3).val_accuracy);  // unset: fallbacks

  const TrialResult stopped = run_trial(
      *runner, assignment("learning_curve", {}, 5),
      [&](const EpochMetrics& e) { return e.epoch == 2 ? Decision::kStop : Decision::kContinue; });
  EXPECT_EQ(stopped.status, TrialStatus::kPruned);
  EXPECT_EQ(stopped.epochs_completed, 2);
}

// A simulated epoch longer than its report allowance is cut where the allowance runs out: the
// trial ends pruned with the epochs it reported.
TEST(BenchmarkRunner, AnEpochLongerThanItsReportAllowanceEndsThePrunedTrial) {
  auto runner = make_benchmark_runner();
  TrialAssignment a = assignment("learning_curve", {{"lr", 0.01}}, 3);
  a.benchmark["seconds_per_epoch"] = 0.02;
  std::vector<EpochMetrics> seen;
  const TrialResult cut = run_trial(*runner, a, [&](const EpochMetrics& e) {
    seen.push_back(e);
    return EpochVerdict(Decision::kContinue, 0.01);
  });
  EXPECT_EQ(cut.status, TrialStatus::kPruned) << cut.error;
  EXPECT_EQ(cut.epochs_completed, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(cut.final_metrics, seen[0].values);
  EXPECT_NE(cut.error.find("epoch 2 ran"), std::string::npos) << cut.error;
}

// The runner turns epoch e of E into fidelity e / E: the last epoch reports Hartmann-6.
TEST(BenchmarkRunner, Hartmann6FidelityRisesToHartmann6AtTheLastEpoch) {
  auto runner = make_benchmark_runner();
  const nlohmann::json x = {{"x1", 0.2},  {"x2", 0.15}, {"x3", 0.48},
                            {"x4", 0.28}, {"x5", 0.31}, {"x6", 0.66}};
  std::vector<double> values;
  run_trial(*runner, assignment("hartmann6_fidelity", x, 4), [&](const EpochMetrics& e) {
    values.push_back(e.values.at("value"));
    return Decision::kContinue;
  });
  ASSERT_EQ(values.size(), 4u);
  const std::array<double, 6> point{0.2, 0.15, 0.48, 0.28, 0.31, 0.66};
  for (int e = 1; e <= 4; ++e) {
    EXPECT_DOUBLE_EQ(values[e - 1], hartmann6_fidelity(point, e / 4.0)) << "epoch " << e;
  }
  EXPECT_DOUBLE_EQ(values.back(), hartmann6(point));
}

TEST(BenchmarkRunner, TheSizeCurveReportsItsSizeUnblurredByNoise) {
  auto runner = make_benchmark_runner();
  auto a = assignment("learning_curve_size", {{"width", 2.0}}, 3);
  a.benchmark["noise_sd"] = 0.05;
  a.benchmark["width_speed"] = -0.5;
  std::vector<EpochMetrics> seen;
  const TrialResult r = run_trial(*runner, a, [&](const EpochMetrics& e) {
    seen.push_back(e);
    return Decision::kContinue;
  });
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& e : seen) EXPECT_EQ(e.values.at("mparams"), curve_network_mparams(2.0));
  EXPECT_NE(r.final_metrics.at("val_accuracy"),
            learning_curve(1e-3, 0.5, 64, 3, 2.0, -0.5).val_accuracy)
      << "the accuracy is noisy";
  EXPECT_NEAR(r.final_metrics.at("val_accuracy"),
              learning_curve(1e-3, 0.5, 64, 3, 2.0, -0.5).val_accuracy, 0.25);
}

TEST(BenchmarkRunner, NoiseIsSeededAndOutOfDomainParametersFail) {
  auto runner = make_benchmark_runner();
  auto noisy = assignment("branin", {{"x1", 1.0}, {"x2", 2.0}}, 1);
  noisy.benchmark["noise_sd"] = 0.5;
  auto value = [&](const TrialAssignment& a) {
    return run_trial(*runner, a, [](const EpochMetrics&) { return Decision::kContinue; })
        .final_metrics.at("value");
  };
  EXPECT_EQ(value(noisy), value(noisy));
  EXPECT_NE(value(noisy), branin(1.0, 2.0));
  auto other_seed = noisy;
  other_seed.seed = 4;
  EXPECT_NE(value(noisy), value(other_seed));

  const TrialResult bad = run_trial(*runner, assignment("branin", {{"x1", 99.0}}, 1),
                                    [](const EpochMetrics&) { return Decision::kContinue; });
  EXPECT_EQ(bad.status, TrialStatus::kFailed);
  EXPECT_NE(bad.error.find("parameters.x1: must be in [-5, 10]"), std::string::npos) << bad.error;
}

TEST(BenchmarkSettings, ReadsAndRejectsStrictly) {
  const auto s = BenchmarkSettings::from_spec({{"function", "hartmann6"}, {"noise_sd", 0.1}}, "b");
  EXPECT_EQ(s.function, "hartmann6");
  EXPECT_DOUBLE_EQ(s.noise_sd, 0.1);
  EXPECT_THROW(BenchmarkSettings::from_spec({{"function", "branin"}, {"speed", 1}}, "b"),
               InputError);
}

}  // namespace
}  // namespace fersweep::benchmarks

namespace fersweep {
namespace {

// A runner that reports two epochs, then throws as a NaN loss or an out-of-memory error would.
class FailsInEpochThree final : public TrialRunner {
 public:
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    for (int epoch = 1; epoch <= 2; ++epoch)
      on_epoch({a.trial_id, epoch, 0.0, {{"value", 1.0}}, {}});
    throw std::runtime_error("loss became nan in epoch 3");
  }
};

TEST(RunTrial, AFailureRecordsItsErrorAndTheEpochItReached) {
  FailsInEpochThree runner;
  TrialAssignment a;
  a.trial_id = 9;
  int reported = 0;
  const TrialResult r = run_trial(runner, a, [&](const EpochMetrics&) {
    ++reported;
    return Decision::kContinue;
  });
  EXPECT_EQ(r.status, TrialStatus::kFailed);
  EXPECT_EQ(r.trial_id, 9);
  EXPECT_EQ(r.error, "loss became nan in epoch 3");
  EXPECT_EQ(r.epochs_completed, 2);
  EXPECT_EQ(reported, 2);
}

}  // namespace
}  // namespace fersweep
