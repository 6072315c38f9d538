// Permutation importance on a random forest, on objectives whose drivers are known.
#include "results/importance.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "common/random.h"

namespace fersweep::results {
namespace {

TEST(Importance, FindsTheParametersThatDriveTheObjective) {
  // The objective depends strongly on lr (log scale), a little on the optimizer, not at all on
  // dropout; batch_size is the same in every trial and must be left out.
  Rng rng(3);
  std::vector<nlohmann::json> params;
  std::vector<double> objective;
  for (int i = 0; i < 60; ++i) {
    const double lr = std::exp(uniform(rng, std::log(1e-4), std::log(1e-1)));
    const std::string optimizer = uniform01(rng) < 0.5 ? "adam" : "sgd";
    const double dropout = uniform(rng, 0.0, 0.5);
    params.push_back(
        {{"lr", lr}, {"optimizer", optimizer}, {"dropout", dropout}, {"batch_size", 64}});
    objective.push_back(-std::pow(std::log10(lr) + 2.5, 2) + (optimizer == "adam" ? 0.3 : 0.0) +
                        normal(rng, 0, 0.02));
  }
  const std::vector<Importance> importance = parameter_importance(params, objective, 7);
  ASSERT_EQ(importance.size(), 3u);
  EXPECT_EQ(importance[0].parameter, "lr");
  EXPECT_GT(importance[0].share, 0.6);
  EXPECT_EQ(importance[1].parameter, "optimizer");
  EXPECT_GT(importance[1].share, 0.02);
  EXPECT_EQ(importance[2].parameter, "dropout");
  EXPECT_LT(importance[2].share, 0.05);
  double total = 0;
  for (const auto& i : importance) total += i.share;
  EXPECT_NEAR(total, 1.0, 1e-9);
  // Deterministic for a seed.
  const auto again = parameter_importance(params, objective, 7);
  EXPECT_EQ(again[0].share, importance[0].share);
}

TEST(Importance, NeedsFourTrials) {
  const std::vector<nlohmann::json> params(3, {{"lr", 0.1}});
  EXPECT_THROW(parameter_importance(params, {1, 2, 3}), InputError);
}

}  // namespace
}  // namespace fersweep::results
