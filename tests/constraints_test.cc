#include "common/constraints.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/trial.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> kKnown = {"val_macro_f1", "param_count", "inference_ms"};

std::string parse_error(const Json& body) {
  try {
    parse_constraints(body, "constraints", kKnown);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Constraints, BadBoundsAreNamedByTheirPath) {
  EXPECT_EQ(parse_error({{"flops", {{"max", 1}}}}),
            "constraints.flops: unknown metric \"flops\" (choose from val_macro_f1, param_count, "
            "inference_ms)");
  EXPECT_EQ(
      parse_error({{"param_count", {{"max", "big"}}}}).rfind("constraints.param_count.max", 0), 0u);
  EXPECT_EQ(parse_error({{"param_count", Json::object()}}),
            "constraints.param_count: give \"min\", \"max\" or both");
  EXPECT_EQ(parse_error({{"val_macro_f1", {{"min", 0.9}, {"max", 0.5}}}}),
            "constraints.val_macro_f1: min 0.9 is above max 0.5");
  EXPECT_EQ(parse_error({{"val_macro_f1", {{"most", 0.5}}}}).rfind("constraints.val_macro_f1", 0),
            0u);
  EXPECT_EQ(parse_error(Json::array()).rfind("constraints", 0), 0u);
}

TEST(Constraints, ViolationIsRelativeToTheBoundSoScalesAdd) {
  const auto constraints = parse_constraints(
      {{"param_count", {{"max", 2e6}}}, {"val_macro_f1", {{"min", 0.5}, {"max", 1.0}}}},
      "constraints", kKnown);
  ASSERT_EQ(constraints.size(), 2u);
  EXPECT_DOUBLE_EQ(constraints[0].violation(3e6), 0.5);   // 1e6 over a 2e6 bound
  EXPECT_DOUBLE_EQ(constraints[0].violation(2e6), 0.0);   // on the bound is inside
  EXPECT_DOUBLE_EQ(constraints[1].violation(0.25), 0.5);  // 0.25 under a 0.5 bound
  EXPECT_DOUBLE_EQ(constraints[1].violation(0.75), 0.0);

  const ConstraintCheck both =
      check_constraints(constraints, {{"param_count", 3e6}, {"val_macro_f1", 0.25}});
  EXPECT_FALSE(both.feasible());
  EXPECT_DOUBLE_EQ(both.violation, 1.0);
  EXPECT_EQ(both.reason,
            "param_count is 3e+06, beyond param_count <= 2e+06; val_macro_f1 is 0.25, beyond "
            "val_macro_f1 in [0.5, 1]");
  // Before training only the costs are known: the trained metric's bound is not judged yet.
  EXPECT_TRUE(check_constraints(constraints, {{"param_count", 1e6}}).feasible());
  EXPECT_FALSE(
      check_constraints(constraints, {{"param_count", 1e6}, {"val_macro_f1", NAN}}).feasible());
}

// A runner whose costs grow with `width_multiplier`: param_count = width x 1e6.
class CountingRunner final : public TrialRunner {
 public:
  int trained = 0;
  std::map<std::string, double> measure_costs(const TrialAssignment& a) override {
    return {{"param_count", a.params.at("width_multiplier").get<double>() * 1e6}, {"flops", 7}};
  }
  TrialResult run(const TrialAssignment& a, const EpochCallback& on_epoch) override {
    ++trained;
    TrialResult result;
    for (int epoch = 1; epoch <= a.epochs; ++epoch) {
      EpochMetrics m{a.trial_id, epoch, 0.1, {{"val_macro_f1", 0.1 * epoch}}, {}};
      on_epoch(m);
      result.final_metrics = m.values;
      result.epochs_completed = epoch;
    }
    return result;
  }
};

TrialAssignment assignment(double width) {
  TrialAssignment a;
  a.trial_id = 7;
  a.epochs = 2;
  a.params = {{"width_multiplier", width}};
  a.constraints = parse_constraints(
      {{"param_count", {{"max", 2e6}}}, {"val_macro_f1", {{"min", 0.5}}}}, "constraints", kKnown);
  return a;
}

TEST(Constraints, AConfigBreakingACostBoundNeverReachesTheTrainer) {
  CountingRunner runner;
  int epochs_seen = 0;
  const TrialResult refused = run_trial(runner, assignment(3.0), [&](const EpochMetrics&) {
    ++epochs_seen;
    return Decision::kContinue;
  });
  EXPECT_EQ(runner.trained, 0);
  EXPECT_EQ(epochs_seen, 0);
  EXPECT_EQ(refused.status, TrialStatus::kInfeasible);
  EXPECT_EQ(refused.epochs_completed, 0);
  EXPECT_EQ(refused.error,
            "infeasible before training: param_count is 3e+06, beyond param_count <= 2e+06");
  EXPECT_EQ(refused.param_count, 3'000'000);
  EXPECT_EQ(
      refused.final_metrics,
      (std::map<std::string, double>{{"param_count", 3e6}, {"flops", 7}, {kViolationMetric, 0.5}}));

  // Within the bound it trains; the trained metric's bound is the coordinator's to judge, and
  // the costs travel with every epoch and the result.
  std::vector<std::map<std::string, double>> epochs;
  const TrialResult trained = run_trial(runner, assignment(1.5), [&](const EpochMetrics& e) {
    epochs.push_back(e.values);
    return Decision::kContinue;
  });
  EXPECT_EQ(runner.trained, 1);
  EXPECT_EQ(trained.status, TrialStatus::kFinished);
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].at("param_count"), 1.5e6);
  EXPECT_EQ(epochs[1].at("flops"), 7);
  EXPECT_EQ(trained.final_metrics.at("param_count"), 1.5e6);
  EXPECT_DOUBLE_EQ(trained.final_metrics.at("val_macro_f1"), 0.2);
}

TEST(Constraints, AGangLeadersCostsAreUsedAsMeasured) {
  CountingRunner runner;
  TrialAssignment a = assignment(1.0);
  a.costs = std::map<std::string, double>{{"param_count", 5e6}};  // what the leader measured
  const TrialResult refused =
      run_trial(runner, a, [](const EpochMetrics&) { return Decision::kContinue; });
  EXPECT_EQ(refused.status, TrialStatus::kInfeasible);
  EXPECT_EQ(runner.trained, 0);
  // And they travel with the assignment.
  const auto back = Json(a).get<TrialAssignment>();
  EXPECT_EQ(back.costs, a.costs);
  EXPECT_EQ(back.constraints, a.constraints);
  EXPECT_EQ(back.cost_request, a.cost_request);
}

}  // namespace
}  // namespace fersweep
