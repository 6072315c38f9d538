// Population Based Training's pure steps (search_spaces/pbt.h) and the spec rules around it.
#include "search_spaces/pbt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>

#include "common/error.h"
#include "search_spaces/sampler.h"

namespace fersweep::search {
namespace {

std::vector<MemberScore> population(const std::vector<double>& values) {
  std::vector<MemberScore> out;
  for (size_t i = 0; i < values.size(); ++i)
    out.push_back({static_cast<int64_t>(i + 10), values[i]});
  return out;
}

TEST(PbtExploit, TheBottomQuantileCopiesMembersOfTheTopQuantile) {
  // Members 10..17; by value, the top two are 13 and 16, the bottom two 11 and 14.
  const auto scores = population({0.5, 0.1, 0.6, 0.9, 0.2, 0.4, 0.8, 0.3});
  std::set<int64_t> parents;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(seed);
    const std::vector<Exploit> exploits = plan_exploits(scores, true, 0.25, rng);
    ASSERT_EQ(exploits.size(), 2u);
    std::set<int64_t> members;
    for (const Exploit& e : exploits) {
      members.insert(e.member);
      EXPECT_TRUE(e.parent == 13 || e.parent == 16) << e.parent;
      parents.insert(e.parent);
    }
    EXPECT_EQ(members, (std::set<int64_t>{11, 14}));
  }
  EXPECT_EQ(parents.size(), 2u) << "both top members get drawn";
  // Minimising turns the ranking around.
  Rng rng(1);
  for (const Exploit& e : plan_exploits(scores, false, 0.25, rng)) {
    EXPECT_TRUE(e.member == 13 || e.member == 16);
    EXPECT_TRUE(e.parent == 11 || e.parent == 14);
  }
}

TEST(PbtExploit, MissingOrNonFiniteValuesRankLastAndTinyPopulationsStillExploit) {
  std::vector<MemberScore> scores = population({0.3, NAN, 0.2});
  scores.push_back({20, std::nullopt});
  Rng rng(3);
  const auto exploits = plan_exploits(scores, true, 0.5, rng);
  ASSERT_EQ(exploits.size(), 2u);
  std::set<int64_t> members{exploits[0].member, exploits[1].member};
  EXPECT_EQ(members, (std::set<int64_t>{11, 20}));
  for (const Exploit& e : exploits) EXPECT_TRUE(e.parent == 10 || e.parent == 12);
  Rng other(3);
  EXPECT_EQ(plan_exploits(population({0.1, 0.2, 0.3}), true, 0.1, other).size(), 1u)
      << "at least one member is replaced";
  EXPECT_TRUE(plan_exploits(population({0.1}), true, 0.5, other).empty());
}

std::vector<Parameter> space() {
  const SweepSpec spec = parse_spec(Json::parse(R"({
    "method": "pbt", "epochs": 6, "metric": {"name": "val_accuracy", "goal": "maximize"},
    "parameters": {
      "lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1, "mutable": true},
      "shift": {"distribution": "int_uniform", "min": 0, "max": 4, "mutable": true},
      "optimizer": {"values": ["sgd", "adam", "adamw"]},
      "label_smoothing": {"values": [0.0, 0.1, 0.2], "mutable": true},
      "batch_size": {"values": [32, 64]}
    }
  })"));
  return spec.parameters;
}

TEST(PbtExplore, PerturbsOnlyMutableParametersWithinTheirRanges) {
  const std::vector<Parameter> parameters = space();
  const Json start = {{"lr", 0.01},
                      {"shift", 2},
                      {"optimizer", "adam"},
                      {"label_smoothing", 0.1},
                      {"batch_size", 64}};
  std::set<double> factors;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng rng(seed);
    const Json next = explore(start, parameters, 0.0, rng);
    EXPECT_EQ(next.at("optimizer"), "adam");
    EXPECT_EQ(next.at("batch_size"), 64);
    factors.insert(std::round(next.at("lr").get<double>() / 0.01 * 10) / 10);
    const int64_t shift = next.at("shift").get<int64_t>();
    EXPECT_TRUE(shift == 1 || shift == 3) << "an integer moves by at least one step: " << shift;
    const double smoothing = next.at("label_smoothing").get<double>();
    EXPECT_TRUE(smoothing == 0.0 || smoothing == 0.2) << "a choice moves to a neighbour";
  }
  EXPECT_EQ(factors, (std::set<double>{0.8, 1.2}));
  // Clamped at the ends of the range; resampling stays within it.
  Rng rng(5);
  EXPECT_LE(explore({{"lr", 0.1}, {"shift", 4}, {"label_smoothing", 0.2}}, parameters, 0.0, rng)
                .at("lr")
                .get<double>(),
            0.1);
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Rng draw(seed);
    const double lr = explore(start, parameters, 1.0, draw).at("lr").get<double>();
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 0.1);
  }
  Rng a(9), b(9);
  EXPECT_EQ(explore(start, parameters, 0.25, a), explore(start, parameters, 0.25, b));
}

Json pbt_spec() {
  return Json::parse(R"({
    "method": "pbt", "epochs": 6, "metric": {"name": "val_accuracy", "goal": "maximize"},
    "pbt": {"population": 4, "perturbation_interval": 2},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1, "mutable": true},
                   "arch": {"values": ["vgg_custom", "resnet18"]}}
  })");
}

void expect_input_error(const Json& doc, const std::string& fragment) {
  try {
    parse_spec(doc);
    ADD_FAILURE() << "accepted: " << doc.dump();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(PbtSpec, ThePopulationIsTheBudgetAndOnlyTrainingSettingsMayChange) {
  const SweepSpec spec = parse_spec(pbt_spec());
  EXPECT_EQ(spec.pbt.population, 4);
  EXPECT_EQ(planned_trials(spec), 4u);
  EXPECT_EQ(spec.checkpoints, CheckpointPolicy::kEveryEpoch);
  Json doc = pbt_spec();
  doc["parameters"]["arch"]["mutable"] = true;
  expect_input_error(doc, "parameters.arch.mutable: arch is fixed");
  doc = pbt_spec();
  doc["parameters"]["lr"].erase("mutable");
  expect_input_error(doc, "needs at least one parameter with \"mutable\"");
  doc = pbt_spec();
  doc["method"] = "random";
  doc.erase("pbt");
  doc["budget"] = {{"trials", 3}};
  expect_input_error(doc, "parameters.lr.mutable: only Population Based Training");
  doc = pbt_spec();
  doc["budget"] = {{"trials", 3}};
  expect_input_error(doc, "budget.trials");
  doc = pbt_spec();
  doc["pbt"]["perturbation_interval"] = 6;
  expect_input_error(doc, "pbt.perturbation_interval");
  doc = pbt_spec();
  doc["pbt"]["quantile"] = 0.6;
  expect_input_error(doc, "pbt.quantile");
  doc = pbt_spec();
  doc["checkpoints"] = "best";
  expect_input_error(doc, "checkpoints");
  doc = pbt_spec();
  doc["early_stopping"] = {{"type", "asha"}};
  expect_input_error(doc, "early_stopping");
  doc = pbt_spec();
  doc["parameters"]["dropout"] = {{"value", 0.2}, {"mutable", true}};
  expect_input_error(doc, "nothing to change to");
}

}  // namespace
}  // namespace fersweep::search
