#include "search_spaces/tpe.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include "benchmarks/functions.h"

namespace fersweep::search {
namespace {

SweepSpec benchmark_spec(const std::string& function, const std::string& method, uint64_t seed) {
  Json parameters = Json::object();
  for (const auto& d : benchmarks::find_benchmark(function)->parameters) {
    parameters[d.name] = {{"distribution", "uniform"}, {"min", d.min}, {"max", d.max}};
  }
  return parse_spec({{"method", method},
                     {"seed", seed},
                     {"metric", {{"name", "value"}, {"goal", "minimize"}}},
                     {"budget", {{"trials", 50}}},
                     {"benchmark", {{"function", function}}},
                     {"parameters", parameters}});
}

double evaluate(const std::string& function, const Json& c) {
  if (function == "branin") return benchmarks::branin(c["x1"], c["x2"]);
  return benchmarks::hartmann6({c["x1"], c["x2"], c["x3"], c["x4"], c["x5"], c["x6"]});
}

// Best value found in `trials` sequential ask/tell rounds.
double best_after(const SweepSpec& spec, const std::string& function, int trials) {
  auto sampler = make_sampler(spec);
  double best = INFINITY;
  for (int i = 0; i < trials; ++i) {
    const Json c = *sampler->ask();
    const double v = evaluate(function, c);
    best = std::min(best, v);
    sampler->tell(c, TrialStatus::kFinished, v, 1);
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return 0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]);
}

class TpeBeatsRandom : public testing::TestWithParam<const char*> {};

TEST_P(TpeBeatsRandom, InMedianRegretOverTenSeedsAtFiftyTrials) {
  const std::string function = GetParam();
  const double minimum = benchmarks::find_benchmark(function)->minimum.value();
  std::vector<double> tpe, random;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    tpe.push_back(best_after(benchmark_spec(function, "tpe", seed), function, 50) - minimum);
    random.push_back(best_after(benchmark_spec(function, "random", seed), function, 50) - minimum);
  }
  RecordProperty("tpe_median_regret", std::to_string(median(tpe)));
  RecordProperty("random_median_regret", std::to_string(median(random)));
  EXPECT_LT(median(tpe), median(random)) << "tpe " << median(tpe) << " random " << median(random);
}

INSTANTIATE_TEST_SUITE_P(Functions, TpeBeatsRandom, testing::Values("branin", "hartmann6"));

// The bandwidth sets how far suggestions stray from the good observations: with the same 30
// observations, narrow kernels must keep the suggestions nearer to the best three.
TEST(Tpe, NarrowerBandwidthSuggestsCloserToTheGoodPoints) {
  const auto mean_distance_to_good = [](double bandwidth) {
    SweepSpec spec = benchmark_spec("hartmann6", "tpe", 5);
    spec.tpe.bandwidth = bandwidth;
    spec.tpe.constant_liar = false;  // asks without tells must all see the same model
    auto sampler = make_sampler(spec);
    std::vector<std::pair<double, Json>> told;
    for (int i = 0; i < 30; ++i) {
      const Json c = *sampler->ask();
      told.emplace_back(evaluate("hartmann6", c), c);
      sampler->tell(c, TrialStatus::kFinished, told.back().first, 1);
    }
    std::sort(told.begin(), told.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    double total = 0;
    constexpr int kAsks = 40;
    for (int i = 0; i < kAsks; ++i) {
      const Json c = *sampler->ask();
      double nearest = INFINITY;
      for (int g = 0; g < 3; ++g) {  // ceil(0.1 * 30): the "below" group
        double squared = 0;
        for (const auto& [name, value] : c.items()) {
          squared += std::pow(value.get<double>() - told[g].second[name].get<double>(), 2);
        }
        nearest = std::min(nearest, std::sqrt(squared));
      }
      total += nearest;
    }
    return total / kAsks;
  };
  const double narrow = mean_distance_to_good(0.05), wide = mean_distance_to_good(0.4);
  EXPECT_LT(narrow, 0.6 * wide) << "narrow " << narrow << " wide " << wide;
}

// Scott's rule ("bandwidth": "scott") sizes each parameter's kernels by how spread the good
// observations are in it: 25 good configs split between x1 = 0.2 and 0.8 but agreeing on
// x2 = 0.5 give suggestions that stray along x1 and keep to x2. A fixed width, the same for
// both, strays as far in x2 as along x1.
TEST(Tpe, ScottBandwidthFollowsEachParametersSpread) {
  const auto mean_offsets = [](std::optional<double> bandwidth) {
    Json parameters = Json::object();
    for (const char* name : {"x1", "x2"}) {
      parameters[name] = {{"distribution", "uniform"}, {"min", 0}, {"max", 1}};
    }
    SweepSpec spec = parse_spec({{"method", "tpe"},
                                 {"seed", 3},
                                 {"metric", {{"name", "value"}, {"goal", "minimize"}}},
                                 {"budget", {{"trials", 300}}},
                                 {"benchmark", {{"function", "branin"}}},
                                 {"parameters", parameters}});
    spec.tpe.bandwidth = bandwidth;
    spec.tpe.constant_liar = false;  // asks without tells must all see the same model
    auto sampler = make_sampler(spec);
    for (int i = 0; i < 250; ++i) {  // ceil(0.1 * 250) = 25: the good group is the first 25
      const bool good = i < 25;
      const double x1 = good ? (i % 2 ? 0.2 : 0.8) + 0.001 * i : (i % 97) / 96.0;
      const double x2 = good ? 0.5 + 0.0002 * i : (i * 37 % 101) / 100.0;
      sampler->tell(Json{{"x1", x1}, {"x2", x2}}, TrialStatus::kFinished, good ? 0.0 : 1.0 + i, 1);
    }
    double along_x1 = 0, along_x2 = 0;
    constexpr int kAsks = 60;
    for (int i = 0; i < kAsks; ++i) {
      const Json c = *sampler->ask();
      const double x1 = c["x1"];
      along_x1 += std::min(std::abs(x1 - 0.2), std::abs(x1 - 0.8)) / kAsks;
      along_x2 += std::abs(c["x2"].get<double>() - 0.5) / kAsks;
    }
    return std::pair{along_x1, along_x2};
  };
  const auto [scott_x1, scott_x2] = mean_offsets(TpeOptions::kScottBandwidth);
  EXPECT_LT(scott_x2, 0.5 * scott_x1) << "x1 " << scott_x1 << " x2 " << scott_x2;
  const auto [fixed_x1, fixed_x2] = mean_offsets(0.1);
  RecordProperty("scott_offsets", fmt::format("{:.4f} {:.4f}", scott_x1, scott_x2));
  RecordProperty("fixed_offsets", fmt::format("{:.4f} {:.4f}", fixed_x1, fixed_x2));
  EXPECT_GT(fixed_x2, 0.7 * fixed_x1) << "x1 " << fixed_x1 << " x2 " << fixed_x2;
  // One objective keeps the fixed width unless the spec asks for Scott's rule.
  const auto [unset_x1, unset_x2] = mean_offsets(std::nullopt);
  EXPECT_DOUBLE_EQ(unset_x1, fixed_x1);
  EXPECT_DOUBLE_EQ(unset_x2, fixed_x2);
}

TEST(Tpe, SuggestionsArePureFunctionsOfSeedAndObservations) {
  auto run = [](uint64_t seed) {
    auto sampler = make_sampler(benchmark_spec("branin", "tpe", seed));
    std::vector<Json> configs;
    for (int i = 0; i < 30; ++i) {
      configs.push_back(*sampler->ask());
      sampler->tell(configs.back(), TrialStatus::kFinished, evaluate("branin", configs.back()), 1);
    }
    return configs;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(Tpe, ConstantLiarSpreadsConcurrentSuggestions) {
  // Twelve observations around one good point, then eight asks with no answer in between (eight
  // idle workers). Without the liar every ask sees the same model; with it, pending configs
  // count as bad and later asks move away from them.
  auto spread = [](bool liar) {
    SweepSpec spec = benchmark_spec("branin", "tpe", 9);
    spec.tpe.constant_liar = liar;
    spec.tpe.startup_trials = 12;
    TpeSampler sampler(spec.parameters, spec.tpe, false, spec.seed);
    for (int i = 0; i < 12; ++i) {
      const Json c = *sampler.ask();
      sampler.tell(c, TrialStatus::kFinished, evaluate("branin", c), 1);
    }
    std::vector<Json> concurrent;
    for (int i = 0; i < 8; ++i) concurrent.push_back(*sampler.ask());
    double min_distance = INFINITY;
    for (size_t a = 0; a < concurrent.size(); ++a) {
      for (size_t b = a + 1; b < concurrent.size(); ++b) {
        const double dx =
            (concurrent[a]["x1"].get<double>() - concurrent[b]["x1"].get<double>()) / 15;
        const double dy =
            (concurrent[a]["x2"].get<double>() - concurrent[b]["x2"].get<double>()) / 15;
        min_distance = std::min(min_distance, std::hypot(dx, dy));
      }
    }
    return min_distance;
  };
  EXPECT_GT(spread(true), spread(false));
}

// 60 asks over the optimizers adam, sgd and adamw (6 startup trials), each config told by
// `tell`: how often each optimizer came in the last 30.
std::map<std::string, int> late_optimizers(
    uint64_t seed, const std::function<void(Sampler&, const Json&, const std::string&)>& tell) {
  SweepSpec spec = parse_spec(Json::parse(R"({
    "method": "tpe", "metric": {"name": "val_loss", "goal": "minimize"},
    "budget": {"trials": 60}, "tpe": {"startup_trials": 6},
    "parameters": {"optimizer": {"values": ["adam", "sgd", "adamw"]}}
  })"));
  spec.seed = seed;
  auto sampler = make_sampler(spec);
  std::map<std::string, int> late;
  for (int i = 0; i < 60; ++i) {
    const Json c = *sampler->ask();
    const std::string optimizer = c["optimizer"];
    tell(*sampler, c, optimizer);
    if (i >= 30) late[optimizer]++;
  }
  return late;
}

TEST(Tpe, PrunedTrialsRankBelowFinishedOnesAndFailedOnesLast) {
  // "adam" always finishes well, "sgd" trials are pruned with a (misleadingly) excellent early
  // value, "adamw" fails. TPE must come to prefer adam.
  auto late = late_optimizers(2, [](Sampler& sampler, const Json& c, const std::string& optimizer) {
    if (optimizer == "adam") sampler.tell(c, TrialStatus::kFinished, 0.5, 10);
    if (optimizer == "sgd") sampler.tell(c, TrialStatus::kPruned, 0.01, 1);
    if (optimizer == "adamw") sampler.tell(c, TrialStatus::kFailed, std::nullopt, 0);
  });
  EXPECT_GT(late["adam"], late["sgd"] + late["adamw"]);
}

// Promotion mode: trials wait at rungs, often until the sweep ends. Told as paused, they are
// evidence at once: TPE leaves its startup and comes to prefer the config that leads at the rung
// although no trial has ended. (Left pending, it would draw at random throughout.)
TEST(Tpe, PausedTrialsAreEvidenceBeforeAnyTrialEnds) {
  auto late = late_optimizers(3, [](Sampler& sampler, const Json& c, const std::string& optimizer) {
    const double loss = optimizer == "adam" ? 0.3 : 0.9;
    sampler.tell_paused(c, std::span<const double>(&loss, 1), 1);
  });
  EXPECT_GT(late["adam"], late["sgd"] + late["adamw"]);
}

// A paused config's next report replaces its paused observation (promoted, paused again, then
// finished: one observation, the last report's); a config told without a pause is a new one.
TEST(Tpe, APausedConfigsNextReportReplacesItsObservation) {
  const SweepSpec spec = benchmark_spec("branin", "tpe", 4);
  TpeSampler sampler(spec.parameters, spec.tpe, false, spec.seed);
  const Json first = *sampler.ask();
  const Json second = *sampler.ask();
  const std::vector<double> at_one = {5.0}, at_three = {4.0};
  sampler.tell_paused(first, at_one, 1);
  EXPECT_EQ(sampler.observations(), 1u);
  sampler.tell_paused(first, at_three, 3);
  EXPECT_EQ(sampler.observations(), 1u);
  sampler.tell(first, TrialStatus::kFinished, 3.0, 9);
  EXPECT_EQ(sampler.observations(), 1u);
  sampler.tell(second, TrialStatus::kFinished, 2.0, 9);
  EXPECT_EQ(sampler.observations(), 2u);
  sampler.tell_paused(second, std::vector<double>{}, 1);  // no objective: nothing to tell
  EXPECT_EQ(sampler.observations(), 2u);

  // Two trials of one config (a categorical space) are two observations, each replaced by its
  // own later report.
  const SweepSpec one_config = parse_spec(Json::parse(R"({
    "method": "tpe", "seed": 1, "metric": {"name": "val_loss", "goal": "minimize"},
    "budget": {"trials": 4}, "parameters": {"optimizer": {"values": ["adam"]}}
  })"));
  TpeSampler same(one_config.parameters, one_config.tpe, false, one_config.seed);
  const Json a = *same.ask(), b = *same.ask();
  ASSERT_EQ(a, b);
  same.tell_paused(a, at_one, 1);
  same.tell_paused(b, at_one, 1);
  EXPECT_EQ(same.observations(), 2u);
  same.tell(a, TrialStatus::kFinished, 3.0, 9);
  same.tell(b, TrialStatus::kPruned, 4.0, 3);
  EXPECT_EQ(same.observations(), 2u);
}

TEST(Tpe, HandlesIntegerQuantisedAndLogParameters) {
  SweepSpec spec = parse_spec(Json::parse(R"({
    "method": "tpe", "seed": 5, "metric": {"name": "val_loss", "goal": "minimize"},
    "budget": {"trials": 40}, "tpe": {"startup_trials": 5},
    "parameters": {
      "batch_size": {"distribution": "int_uniform", "min": 8, "max": 12},
      "weight_decay": {"distribution": "q_uniform", "min": 0.0, "max": 0.01, "q": 0.0025},
      "lr": {"distribution": "log_uniform", "min": 1e-5, "max": 1e-1}
    }
  })"));
  for (bool multivariate : {true, false}) {
    spec.tpe.multivariate = multivariate;
    auto sampler = make_sampler(spec);
    std::vector<double> lrs;
    for (int i = 0; i < 40; ++i) {
      const Json c = *sampler->ask();
      ASSERT_TRUE(c["batch_size"].is_number_integer());
      ASSERT_GE(c["batch_size"].get<int>(), 8);
      ASSERT_LE(c["batch_size"].get<int>(), 12);
      const double wd = c["weight_decay"], lr = c["lr"];
      ASSERT_NEAR(std::remainder(wd, 0.0025), 0.0, 1e-12);
      ASSERT_GE(wd, 0.0);
      ASSERT_LE(wd, 0.01 + 1e-12);
      ASSERT_GE(lr, 1e-5);
      ASSERT_LE(lr, 1e-1);
      // Best at lr = 1e-3, batch 10, no weight decay.
      const double loss =
          std::pow(std::log10(lr) + 3, 2) + std::abs(c["batch_size"].get<int>() - 10) + wd * 100;
      sampler->tell(c, TrialStatus::kFinished, loss, 1);
      if (i >= 30) lrs.push_back(lr);
    }
    // The model concentrates on the good region: late suggestions sit near lr = 1e-3.
    EXPECT_NEAR(std::log10(median(lrs)), -3, 0.75) << "multivariate " << multivariate;
  }
}

}  // namespace
}  // namespace fersweep::search

namespace fersweep::search {
namespace {

// One parameter, x in [0, 1]. At epoch 1 low x looks best, at epoch 3 high x: the model follows
// the largest budget that enough configs reached (here 6: the startup trials, more than 1 varied
// parameter + 2), and falls back to epoch 1 while epoch 3 has too few.
TpeSampler fidelity_sampler(bool multi_fidelity) {
  const SweepSpec spec = parse_spec(
      {{"method", "tpe"},
       {"metric", {{"name", "value"}, {"goal", "minimize"}}},
       {"budget", {{"trials", 100}}},
       {"epochs", 9},
       {"benchmark", {{"function", "branin"}}},
       {"parameters",
        {{"x1", {{"distribution", "uniform"}, {"min", 0}, {"max", 1}}}, {"x2", {{"value", 0}}}}}});
  TpeOptions options = spec.tpe;
  options.startup_trials = 6;
  options.multi_fidelity = multi_fidelity;
  return TpeSampler(spec.parameters, options, false, 17);
}

double mean_suggested_x(TpeSampler& sampler, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const Json c = *sampler.ask();
    sum += c.at("x1").get<double>();
    sampler.tell(c, TrialStatus::kFailed, std::nullopt, 0);  // keeps later asks comparable
  }
  return sum / n;
}

TEST(MultiFidelityTpe, FitsTheLargestBudgetEnoughConfigsReachedAndFallsBackBelowIt) {
  TpeSampler sampler = fidelity_sampler(true);
  for (int i = 0; i < 20; ++i) {
    const double x = (i + 0.5) / 20;
    sampler.tell_intermediate({{"x1", x}, {"x2", 0}}, 1, std::vector<double>{x});
  }
  EXPECT_LT(mean_suggested_x(sampler, 10), 0.35) << "epoch 1 favours low x";
  for (int i = 0; i < 5; ++i) {  // one short of enough at epoch 3
    const double x = (i + 0.5) / 5;
    sampler.tell_intermediate({{"x1", x}, {"x2", 0}}, 3, std::vector<double>{1 - x});
  }
  EXPECT_LT(mean_suggested_x(sampler, 10), 0.35) << "still epoch 1: epoch 3 has 5 configs";
  sampler.tell_intermediate({{"x1", 0.99}, {"x2", 0}}, 3, std::vector<double>{0.01});
  EXPECT_GT(mean_suggested_x(sampler, 10), 0.65) << "epoch 3 reached by 6: it favours high x";
}

// A trial first judged after 9 epochs (a Hyperband bracket's first rung) is proposed from
// evidence at 9 epochs or more: epoch 1, with the most configs, favours low x, but three slow
// learners that ran all 9 epochs favour high x. Too few for a model at epoch 9, so the final
// results decide, further-trained first, as without multi_fidelity.
TEST(MultiFidelityTpe, NeverFitsBelowTheEpochTheNextTrialIsFirstJudgedAt) {
  TpeSampler sampler = fidelity_sampler(true);
  for (int i = 0; i < 20; ++i) {
    const double x = (i + 0.5) / 20;
    const Json config = {{"x1", x}, {"x2", 0}};
    sampler.tell_intermediate(config, 1, std::vector<double>{x});
    if (i % 2 == 0) sampler.tell(config, TrialStatus::kPruned, x, 1);
  }
  for (const double x : {0.8, 0.9, 0.95}) {
    const Json config = {{"x1", x}, {"x2", 0}};
    for (int epoch = 1; epoch <= 9; ++epoch) {
      sampler.tell_intermediate(config, epoch, std::vector<double>{1.0 - x * epoch / 9});
    }
    sampler.tell(config, TrialStatus::kFinished, 1.0 - x, 9);
  }
  sampler.next_judged_at(9);
  EXPECT_GT(mean_suggested_x(sampler, 10), 0.65) << "judged at 9: the finished trials lead";
  sampler.next_judged_at(1);
  EXPECT_LT(mean_suggested_x(sampler, 10), 0.35) << "judged at 1: the model at epoch 1";
}

// A measured ASHA ladder that made epoch 1 its only rung (search_spaces/measured_ladder.h): its
// probes trained through epoch 3 unjudged, enough of them for a model there, but epoch 3 is no
// rung and the model stays at epoch 1, where every trial is compared.
TEST(MultiFidelityTpe, FitsOnlyAtTheFidelitiesTheRuleCompares) {
  TpeSampler sampler = fidelity_sampler(true);
  for (int i = 0; i < 20; ++i) {
    const double x = (i + 0.5) / 20;
    sampler.tell_intermediate({{"x1", x}, {"x2", 0}}, 1, std::vector<double>{x});
  }
  for (int i = 0; i < 6; ++i) {
    const double x = (i + 0.5) / 6;
    sampler.tell_intermediate({{"x1", x}, {"x2", 0}}, 3, std::vector<double>{1 - x});
  }
  sampler.model_fidelities({1, 9});
  EXPECT_LT(mean_suggested_x(sampler, 10), 0.35) << "epoch 3 is no rung: the model at epoch 1";
  sampler.model_fidelities({});
  EXPECT_GT(mean_suggested_x(sampler, 10), 0.65) << "any epoch: 6 configs reached epoch 3";
}

TEST(MultiFidelityTpe, WithoutTheOptionIntermediateResultsAreIgnored) {
  TpeSampler told = fidelity_sampler(false), not_told = fidelity_sampler(false);
  for (int i = 0; i < 20; ++i) {
    const double x = (i + 0.5) / 20;
    told.tell_intermediate({{"x1", x}, {"x2", 0}}, 1, std::vector<double>{x});
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*told.ask(), *not_told.ask());
}

}  // namespace
}  // namespace fersweep::search
