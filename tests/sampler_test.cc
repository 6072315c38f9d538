#include "search_spaces/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fersweep::search {
namespace {

SweepSpec spec_from(const char* text) {
  return parse_spec(Json::parse(text));
}

const char* kGrid = R"({
  "method": "grid", "metric": {"name": "val_loss", "goal": "minimize"},
  "parameters": {
    "batch_size": {"values": [16, 32, 64]},
    "optimizer": {"values": ["adam", "sgd"]},
    "filters": {"values": [[8, 16], [16, 32]]},
    "dropout": {"value": 0.25}
  }
})";

TEST(GridSampler, EnumeratesExactlyTheCartesianProduct) {
  const SweepSpec spec = spec_from(kGrid);
  EXPECT_EQ(planned_trials(spec), 12u);
  auto sampler = make_sampler(spec);
  std::set<std::string> seen;
  std::vector<Json> configs;
  while (auto config = sampler->ask()) {
    EXPECT_EQ(config->size(), 4u);
    EXPECT_EQ((*config)["dropout"], 0.25);
    seen.insert(config->dump());
    configs.push_back(*config);
  }
  EXPECT_EQ(configs.size(), 12u);
  EXPECT_EQ(seen.size(), 12u);  // no point twice
  for (int batch : {16, 32, 64}) {
    for (const char* optimizer : {"adam", "sgd"}) {
      for (const Json& filters : {Json{8, 16}, Json{16, 32}}) {
        Json expected = {{"batch_size", batch},
                         {"optimizer", optimizer},
                         {"filters", filters},
                         {"dropout", 0.25}};
        EXPECT_TRUE(seen.contains(expected.dump())) << expected.dump();
      }
    }
  }
  // The last parameter by name varies fastest: optimizer, then filters, then dropout, ...
  EXPECT_EQ(configs[0]["optimizer"], "adam");
  EXPECT_EQ(configs[1]["optimizer"], "sgd");
  EXPECT_EQ(configs[0]["filters"], configs[1]["filters"]);
  EXPECT_NE(configs[0]["filters"], configs[2]["filters"]);
}

TEST(GridSampler, BudgetCapsTheGrid) {
  Json doc = Json::parse(kGrid);
  doc["budget"] = {{"trials", 5}};
  EXPECT_EQ(planned_trials(parse_spec(doc)), 5u);
  doc["budget"] = {{"trials", 500}};
  EXPECT_EQ(planned_trials(parse_spec(doc)), 12u);
}

const char* kRandom = R"({
  "method": "random", "metric": {"name": "val_accuracy", "goal": "maximize"},
  "budget": {"trials": 10}, "seed": 42,
  "parameters": {
    "lr": {"distribution": "log_uniform", "min": 0.0001, "max": 0.1},
    "dropout": {"distribution": "uniform", "min": 0.2, "max": 0.6},
    "batch_size": {"distribution": "int_uniform", "min": 8, "max": 12},
    "weight_decay": {"distribution": "q_uniform", "min": 0.0, "max": 0.01, "q": 0.0025},
    "optimizer": {"values": ["adam", "adamw", "sgd"]}
  }
})";

std::vector<Json> draw(const SweepSpec& spec, int n) {
  auto sampler = make_sampler(spec);
  std::vector<Json> out;
  for (int i = 0; i < n; ++i) out.push_back(*sampler->ask());
  return out;
}

TEST(RandomSampler, SameSeedSameConfigsOtherSeedOtherConfigs) {
  const SweepSpec spec = spec_from(kRandom);
  EXPECT_EQ(draw(spec, 50), draw(spec, 50));
  Json doc = Json::parse(kRandom);
  doc["seed"] = 43;
  EXPECT_NE(draw(spec, 50), draw(parse_spec(doc), 50));
}

TEST(RandomSampler, RespectsBoundsAndDistributions) {
  const auto configs = draw(spec_from(kRandom), 4000);
  std::vector<double> log_lr;
  std::set<int64_t> batch_sizes;
  std::map<std::string, int> optimizers;
  double dropout_sum = 0;
  for (const Json& c : configs) {
    const double lr = c["lr"], dropout = c["dropout"], wd = c["weight_decay"];
    ASSERT_GE(lr, 0.0001);
    ASSERT_LE(lr, 0.1);
    ASSERT_GE(dropout, 0.2);
    ASSERT_LT(dropout, 0.6);
    ASSERT_TRUE(c["batch_size"].is_number_integer());
    const int64_t batch = c["batch_size"];
    ASSERT_GE(batch, 8);
    ASSERT_LE(batch, 12);
    ASSERT_GE(wd, 0.0);
    ASSERT_LE(wd, 0.01 + 1e-12);
    ASSERT_NEAR(std::remainder(wd, 0.0025), 0.0, 1e-12) << wd;
    log_lr.push_back(std::log10(lr));
    batch_sizes.insert(batch);
    optimizers[c["optimizer"]]++;
    dropout_sum += dropout;
  }
  // log_uniform over [1e-4, 1e-1]: log10 is uniform on [-4, -1], so its median is near -2.5.
  std::nth_element(log_lr.begin(), log_lr.begin() + 2000, log_lr.end());
  EXPECT_NEAR(log_lr[2000], -2.5, 0.1);
  EXPECT_NEAR(dropout_sum / 4000, 0.4, 0.01);
  EXPECT_EQ(batch_sizes, (std::set<int64_t>{8, 9, 10, 11, 12}));  // both ends included
  for (const auto& [name, count] : optimizers) EXPECT_NEAR(count, 4000 / 3.0, 120) << name;
  EXPECT_EQ(optimizers.size(), 3u);
}

}  // namespace
}  // namespace fersweep::search
