#include "search_spaces/sampler.h"

#include "common/error.h"
#include "search_spaces/sobol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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

// Kolmogorov-Smirnov distance between the sample and the uniform distribution on [0, 1).
double ks_uniform(std::vector<double> u) {
  std::sort(u.begin(), u.end());
  double d = 0;
  const double n = static_cast<double>(u.size());
  for (size_t i = 0; i < u.size(); ++i) {
    d = std::max({d, (i + 1) / n - u[i], u[i] - i / n});
  }
  return d;
}

// Pearson's chi-square statistic of observed counts against equal expected counts.
double chi_square_equal(const std::vector<int>& counts) {
  double total = 0;
  for (int c : counts) total += c;
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (int c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

// Random and Sobol must both draw from the declared distributions. With n = 4000 the KS critical
// value at alpha = 0.001 is 1.95 / sqrt(n) = 0.031; chi-square with 2 and 4 degrees of freedom
// at alpha = 0.001 is 13.8 and 18.5. Seeds are fixed, so the outcome is too.
class DistributionTest : public testing::TestWithParam<const char*> {};

TEST_P(DistributionTest, RespectsBoundsAndDistributions) {
  Json doc = Json::parse(kRandom);
  doc["method"] = GetParam();
  const int n = 4000;
  const auto configs = draw(parse_spec(doc), n);
  std::vector<double> lr_u, dropout_u;
  std::vector<int> batch_counts(5, 0), optimizer_counts(3, 0), wd_counts(5, 0);
  const std::vector<std::string> optimizers = {"adam", "adamw", "sgd"};
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
    lr_u.push_back((std::log10(lr) + 4) / 3);  // log_uniform: uniform in log space
    dropout_u.push_back((dropout - 0.2) / 0.4);
    batch_counts[batch - 8]++;
    wd_counts[static_cast<int>(std::lround(wd / 0.0025))]++;
    optimizer_counts[std::find(optimizers.begin(), optimizers.end(), c["optimizer"]) -
                     optimizers.begin()]++;
  }
  EXPECT_LT(ks_uniform(lr_u), 0.031);
  EXPECT_LT(ks_uniform(dropout_u), 0.031);
  EXPECT_LT(chi_square_equal(batch_counts), 18.5);  // both ends included, equal shares
  EXPECT_LT(chi_square_equal(wd_counts), 18.5);     // 0, 0.0025, ..., 0.01
  EXPECT_LT(chi_square_equal(optimizer_counts), 13.8);
  EXPECT_GT(batch_counts.front(), 0);
  EXPECT_GT(batch_counts.back(), 0);
}

INSTANTIATE_TEST_SUITE_P(Samplers, DistributionTest, testing::Values("random", "sobol"));

TEST(RandomSampler, DetectsASkewedSample) {
  // The statistics above must be able to fail: a sample squeezed into [0, 0.9) is rejected.
  std::vector<double> skewed;
  for (int i = 0; i < 4000; ++i) skewed.push_back(0.9 * (i + 0.5) / 4000);
  EXPECT_GT(ks_uniform(skewed), 0.031);
  EXPECT_GT(chi_square_equal({900, 800, 700}), 13.8);
}

TEST(SobolSequence, UnscrambledStartsWithTheTextbookPoints) {
  SobolSequence sobol(3, 0, false);
  const std::vector<std::vector<double>> expected = {
      {0, 0, 0},          {0.5, 0.5, 0.5},       {0.75, 0.25, 0.25},
      {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625}, {0.875, 0.875, 0.125}};
  for (const auto& point : expected) EXPECT_EQ(sobol.next(), point);
}

TEST(SobolSequence, MatchesScipyInAllSixtyFourDimensions) {
  // tests/data/sobol_reference.txt comes from scipy.stats.qmc.Sobol (bench/sobol_reference.py).
  std::ifstream reference(FERSWEEP_SOURCE_DIR "/tests/data/sobol_reference.txt");
  ASSERT_TRUE(reference) << "missing reference file";
  SobolSequence sobol(SobolSequence::kMaxDimensions, 0, false);
  std::string line;
  int points = 0;
  while (std::getline(reference, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream values(line);
    const std::vector<double> ours = sobol.next();
    for (int d = 0; d < SobolSequence::kMaxDimensions; ++d) {
      double expected = -1;
      values >> expected;
      ASSERT_EQ(ours[d], expected) << "point " << points << " dimension " << d;
    }
    ++points;
  }
  EXPECT_EQ(points, 256);
}

TEST(SobolSequence, ScrambledPointsFormANet) {
  // Scrambling keeps the net property: the first 2^m points put exactly one point in every
  // interval of width 2^-m in each dimension, and in every 2^-a x 2^-(m-a) box of the first two.
  constexpr int m = 8, n = 1 << m;
  SobolSequence sobol(12, 99);
  std::vector<std::vector<double>> points;
  for (int i = 0; i < n; ++i) points.push_back(sobol.next());
  for (int d = 0; d < 12; ++d) {
    std::set<int> cells;
    for (const auto& p : points) cells.insert(static_cast<int>(p[d] * n));
    EXPECT_EQ(cells.size(), static_cast<size_t>(n)) << "dimension " << d;
  }
  for (int a = 0; a <= m; ++a) {
    std::set<std::pair<int, int>> boxes;
    for (const auto& p : points) {
      boxes.insert({static_cast<int>(p[0] * (1 << a)), static_cast<int>(p[1] * (1 << (m - a)))});
    }
    EXPECT_EQ(boxes.size(), static_cast<size_t>(n)) << "boxes 2^-" << a << " x 2^-" << m - a;
  }
  SobolSequence other(12, 100);
  EXPECT_NE(other.next(), points[0]);  // the seed picks the scramble
}

TEST(SobolSequence, RefusesMoreDimensionsThanItHasDirectionNumbers) {
  EXPECT_THROW(SobolSequence(SobolSequence::kMaxDimensions + 1, 0), InputError);
}

TEST(GridSampler, AHugeGridNeedsATrialBudget) {
  // 8 x 10^7 points: counted as a product, never walked.
  auto ten = [](double from, double step) {
    Json values = Json::array();
    for (int i = 0; i < 10; ++i) values.push_back(from + i * step);
    return Json{{"values", values}};
  };
  Json widths = Json::array();
  for (int i = 1; i <= 10; ++i) widths.push_back(Json::array({i}));
  Json doc = Json::parse(R"({"method": "grid", "metric": {"name": "val_loss", "goal": "minimize"},
                            "parameters": {"convs_per_block": {"values": [1, 2, 3, 4, 5, 6, 7, 8]},
                                           "batch_size": {"values": [8, 16, 24, 32, 40, 48, 56,
                                                                     64, 72, 80]}}})");
  doc["parameters"]["dense"] = {{"values", widths}};
  doc["parameters"]["filters"] = {{"values", widths}};
  doc["parameters"]["dropout"] = ten(0.0, 0.05);
  doc["parameters"]["lr"] = ten(0.001, 0.001);
  doc["parameters"]["momentum"] = ten(0.0, 0.05);
  doc["parameters"]["weight_decay"] = ten(0.0, 0.01);
  try {
    planned_trials(parse_spec(doc));
    FAIL() << "accepted a grid of 8 * 10^7 points without a budget";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 10000000 points; set budget.trials"),
              std::string::npos)
        << e.what();
  }
  doc["budget"] = {{"trials", 100}};
  EXPECT_EQ(planned_trials(parse_spec(doc)), 100u);
}

const char* kConditionalGrid = R"({
  "method": "grid", "metric": {"name": "val_loss", "goal": "minimize"},
  "parameters": {
    "optimizer": {"values": ["adam", "sgd"]},
    "momentum": {"values": [0.8, 0.9, 0.99], "when": {"optimizer": "sgd"}},
    "augment": {"values": [true, false], "when": {"optimizer": "sgd"}},
    "weight_decay": {"values": [0.0, 0.01], "when": {"augment": false}},
    "batch_size": {"values": [32, 64]}
  }
})";

TEST(GridSampler, ConditionalParametersOnlyMultiplyTheirBranch) {
  const SweepSpec spec = spec_from(kConditionalGrid);
  // adam: 2 batch sizes; sgd: 2 batch x 3 momentum x (augment: 1 + no augment: 2 decays) = 18.
  EXPECT_EQ(planned_trials(spec), 20u);
  auto sampler = make_sampler(spec);
  std::set<std::string> seen;
  int adam = 0;
  while (auto c = sampler->ask()) {
    EXPECT_TRUE(seen.insert(c->dump()).second) << "twice: " << c->dump();
    const bool sgd = (*c)["optimizer"] == "sgd";
    adam += !sgd;
    EXPECT_EQ(c->contains("momentum"), sgd) << c->dump();
    EXPECT_EQ(c->contains("augment"), sgd) << c->dump();
    EXPECT_EQ(c->contains("weight_decay"), sgd && (*c)["augment"] == false) << c->dump();
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(adam, 2);
}

TEST(Samplers, LeaveInactiveConditionalParametersOut) {
  for (const char* method : {"random", "sobol", "tpe"}) {
    Json doc = Json::parse(kConditionalGrid);
    doc["method"] = method;
    doc["budget"] = {{"trials", 200}};
    doc["parameters"]["momentum"] = {
        {"distribution", "uniform"}, {"min", 0.5}, {"max", 0.99}, {"when", {{"optimizer", "sgd"}}}};
    auto sampler = make_sampler(parse_spec(doc));
    std::map<std::string, int> optimizers;
    for (int i = 0; i < 200; ++i) {
      const Json c = *sampler->ask();
      optimizers[c["optimizer"]]++;
      const bool sgd = c["optimizer"] == "sgd";
      ASSERT_EQ(c.contains("momentum"), sgd) << method << " " << c.dump();
      ASSERT_EQ(c.contains("weight_decay"), sgd && c["augment"] == false) << method << c.dump();
      sampler->tell(c, TrialStatus::kFinished, sgd ? c["momentum"].get<double>() : 0.1, 1);
    }
    EXPECT_GT(optimizers["sgd"], 0) << method;
    EXPECT_GT(optimizers["adam"], 0) << method;
  }
}

}  // namespace
}  // namespace fersweep::search
