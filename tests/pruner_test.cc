#include "search_spaces/pruners.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace fersweep::search {
namespace {

TEST(AshaPruner, RungsAreMinEpochsTimesPowersOfEta) {
  EXPECT_EQ(AshaPruner(1, 3, 27, true).rungs(), (std::vector<int>{1, 3, 9}));
  EXPECT_EQ(AshaPruner(2, 2, 20, true).rungs(), (std::vector<int>{2, 4, 8, 16}));
  EXPECT_EQ(AshaPruner(5, 3, 5, true).rungs(), std::vector<int>{});
}

// Feeds (trial, value) arrivals at one rung; returns which trials were promoted.
std::vector<int> promoted_at_rung(AshaPruner& asha, int epoch,
                                  const std::vector<std::pair<int, double>>& arrivals) {
  std::vector<int> promoted;
  for (const auto& [trial, value] : arrivals) {
    if (!asha.should_stop(trial, epoch, value)) promoted.push_back(trial);
  }
  return promoted;
}

TEST(AshaPruner, PromotesTheTopThirdOfWhatEachRungHasSeen) {
  AshaPruner asha(1, 3, 27, true);
  // Rung 1 (epoch 1): nine trials arrive worst-first but for three latecomers that are the best.
  // Each decision compares against everything recorded at the rung so far: the first arrival is
  // promoted (top 1 of 1); after that only values inside the top floor(n/3) continue.
  const auto rung1 = promoted_at_rung(asha, 1,
                                      {{0, 0.50},
                                       {1, 0.40},
                                       {2, 0.30},
                                       {3, 0.20},
                                       {4, 0.10},
                                       {5, 0.05},
                                       {6, 0.90},
                                       {7, 0.80},
                                       {8, 0.70}});
  // n=1: 0 is top 1. n=2..5: keep 1, none beats 0.50. n=6: keep 2, 0.05 is last.
  // n=7: keep 2, 0.90 is first. n=8: keep 2, 0.80 is second. n=9: keep 3, 0.70 is third.
  EXPECT_EQ(rung1, (std::vector<int>{0, 6, 7, 8}));
  // The three promoted last are exactly the top third of the nine values at this rung.

  // Rung 2 (epoch 3): the promoted ones arrive; with n < eta only a new best continues.
  const auto rung2 = promoted_at_rung(asha, 3, {{6, 0.91}, {7, 0.95}, {8, 0.60}});
  EXPECT_EQ(rung2, (std::vector<int>{6, 7}));
  // Epochs between rungs never stop anything.
  EXPECT_FALSE(asha.should_stop(8, 2, 0.0));
  EXPECT_FALSE(asha.should_stop(8, 5, 0.0));
}

TEST(AshaPruner, WithManyArrivalsInRandomOrderKeepsATopThirdFraction) {
  // 300 arrivals in a scrambled order: a trial is promoted iff it beats all but floor(n/eta)-1
  // of those before it; each value k/300 is compared by hand.
  AshaPruner asha(1, 3, 27, false);  // minimise: smaller is better
  std::vector<double> values;
  for (int i = 0; i < 300; ++i) values.push_back(((i * 7919) % 300) / 300.0);
  int promoted = 0;
  std::vector<double> seen;
  for (int i = 0; i < 300; ++i) {
    seen.push_back(values[i]);
    const size_t keep = std::max<size_t>(1, seen.size() / 3);
    const size_t better =
        std::count_if(seen.begin(), seen.end(), [&](double v) { return v < values[i]; });
    const bool expected_stop = better >= keep;
    EXPECT_EQ(asha.should_stop(i, 1, values[i]), expected_stop) << i;
    promoted += !expected_stop;
  }
  EXPECT_GT(promoted, 100 * 0.8);  // roughly a third, a bit more early on
  EXPECT_LT(promoted, 100 * 1.6);
}

TEST(AshaPruner, MinimisingRanksLowValuesFirst) {
  AshaPruner asha(1, 2, 8, false);
  EXPECT_FALSE(asha.should_stop(0, 1, 1.0));
  EXPECT_TRUE(asha.should_stop(1, 1, 2.0));   // n=2 keeps 1, 2.0 is worse than 1.0
  EXPECT_FALSE(asha.should_stop(2, 1, 0.5));  // n=3 keeps 1, 0.5 is the best
}

TEST(MedianPruner, StopsTrialsBelowTheMedianOfFinishedOnes) {
  MedianPruner median(2, 3, true);
  // Three finished trials with values per epoch.
  const std::vector<std::vector<double>> finished = {
      {0.2, 0.4, 0.6}, {0.3, 0.5, 0.7}, {0.1, 0.3, 0.5}};
  for (int t = 0; t < 3; ++t) {
    for (int e = 1; e <= 3; ++e) EXPECT_FALSE(median.should_stop(t, e, finished[t][e - 1]));
    median.trial_ended(t, true, {});
  }
  EXPECT_FALSE(median.should_stop(10, 1, 0.0));  // epoch 1 < min_epochs
  EXPECT_TRUE(median.should_stop(10, 2, 0.35));  // median at epoch 2 is 0.4
  EXPECT_FALSE(median.should_stop(11, 1, 0.45));
  EXPECT_FALSE(median.should_stop(11, 2, 0.1));  // its best so far (0.45) beats 0.4
}

TEST(MedianPruner, WaitsForStartupTrials) {
  MedianPruner median(1, 2, true);
  EXPECT_FALSE(median.should_stop(0, 1, 0.9));
  median.trial_ended(0, true, {});
  EXPECT_FALSE(median.should_stop(1, 1, 0.1));  // one finished trial is not enough
  median.trial_ended(1, false, {});             // pruned trials do not count
  EXPECT_FALSE(median.should_stop(2, 1, 0.1));
}

TEST(HyperbandPruner, SpreadsTrialsOverBracketsInHyperbandProportions) {
  HyperbandPruner hyperband(1, 3, 27, true, 5);
  ASSERT_EQ(hyperband.brackets(), 4);  // first rungs 1, 3, 9, 27 (the last never stops)
  std::map<int, int> counts;
  for (int t = 0; t < 49000; ++t) counts[hyperband.bracket_of(t)]++;
  // Classic Hyperband sizes for eta=3, R=27: 27, 12, 6, 4 of every 49.
  EXPECT_NEAR(counts[0], 27000, 600);
  EXPECT_NEAR(counts[1], 12000, 500);
  EXPECT_NEAR(counts[2], 6000, 400);
  EXPECT_NEAR(counts[3], 4000, 300);
}

TEST(HyperbandPruner, TrialsCompeteOnlyInsideTheirBracket) {
  HyperbandPruner hyperband(1, 3, 27, true, 5);
  int in_last = -1;
  for (int t = 0; in_last < 0; ++t) {
    if (hyperband.bracket_of(t) == 3) in_last = t;
  }
  for (int e = 1; e < 27; ++e) EXPECT_FALSE(hyperband.should_stop(in_last, e, -100.0));
  // Bracket 0 stops at epoch 1: its second arrival, worse than the first, is stopped.
  std::vector<int> first_bracket;
  for (int t = 0; first_bracket.size() < 2; ++t) {
    if (hyperband.bracket_of(t) == 0) first_bracket.push_back(t);
  }
  EXPECT_FALSE(hyperband.should_stop(first_bracket[0], 1, 0.5));
  EXPECT_TRUE(hyperband.should_stop(first_bracket[1], 1, 0.4));
}

// What a multi-fidelity sampler proposes for: the epoch at which a trial is first compared.
TEST(Pruners, TellWhenATrialIsFirstJudged) {
  const HyperbandPruner hyperband(1, 3, 27, true, 5);
  for (int t = 0; t < 200; ++t) {
    const int bracket = hyperband.bracket_of(t);
    const std::optional<int> first = hyperband.first_judged_at(t);
    if (bracket == 3) {
      EXPECT_FALSE(first) << "the last bracket stops nothing";
    } else {
      EXPECT_EQ(first, std::optional<int>(static_cast<int>(std::pow(3, bracket)))) << "trial " << t;
    }
  }
  EXPECT_EQ(AshaPruner(3, 3, 27, true).first_judged_at(0), std::optional<int>(3));
  EXPECT_FALSE(AshaPruner(27, 3, 27, true).first_judged_at(0)) << "no rung below the last epoch";
  EXPECT_EQ(MedianPruner(4, 5, true).first_judged_at(7), std::optional<int>(4));
  EXPECT_FALSE(NoPruner().first_judged_at(0));
}

// Promotion mode (the ASHA paper's Algorithm 2): every arrival pauses at its rung; a rung promotes
// its top floor(n / eta) once, best first, from the highest rung down, and only trials that are
// actually paused.
TEST(AshaPromotion, PromotesTheTopOfTheHighestRungFirstAndEachTrialOnce) {
  AshaPruner asha(1, 3, 27, true, true);
  ASSERT_TRUE(asha.promotes());
  std::set<int> paused;
  const auto is_paused = [&](int trial) { return paused.contains(trial); };
  const auto arrive = [&](int trial, int epoch, double value) {
    EXPECT_TRUE(asha.should_stop(trial, epoch, value)) << "every rung arrival pauses";
    paused.insert(trial);
  };
  EXPECT_FALSE(asha.should_stop(0, 2, 0.9)) << "between rungs nothing pauses";
  arrive(0, 1, 0.50);
  arrive(1, 1, 0.40);
  EXPECT_EQ(asha.promote(is_paused), std::nullopt) << "fewer than eta arrivals promote nothing";
  arrive(2, 1, 0.60);
  EXPECT_EQ(asha.promote(is_paused), 2) << "the top 1 of 3";
  paused.erase(2);
  EXPECT_EQ(asha.promote(is_paused), std::nullopt) << "promoted once; 0.50 is not top 1 of 3";
  for (int trial = 3; trial < 6; ++trial) arrive(trial, 1, 0.1 * trial);  // 0.3, 0.4, 0.5
  // Six at rung 1: top 2 are 0.60 (promoted) and 0.50, trial 0 (earlier than trial 5's 0.50).
  EXPECT_EQ(asha.promote(is_paused), 0);
  paused.erase(0);
  EXPECT_EQ(asha.promote(is_paused), std::nullopt);

  // Trials 2 and 0 reach rung 2 (epoch 3), and a third one: rung 2 beats rung 1 in priority.
  arrive(2, 3, 0.70);
  arrive(0, 3, 0.80);
  for (int trial = 6; trial < 9; ++trial) arrive(trial, 1, 0.9);  // nine at rung 1: top 3
  paused.insert(7);
  asha.trained_past(7, 3);  // a resumed sweep: trial 7 went on past rung 1 before
  arrive(7, 3, 0.75);
  EXPECT_EQ(asha.promote(is_paused), 0) << "rung 2's top 1 of 3 before rung 1's candidates";
  paused.erase(0);
  EXPECT_EQ(asha.promote(is_paused), 6) << "then rung 1's best not yet promoted (ties: earliest)";
  paused.erase(6);
  // Rung 1's top 3 are now 6, 7 and 8 at 0.9 (2 and 0 went up earlier, when they were on top);
  // 7 went on before the resume.
  EXPECT_EQ(asha.promote(is_paused), 8);
  paused.erase(8);
  EXPECT_EQ(asha.promote(is_paused), std::nullopt);
}

TEST(AshaPromotion, MinimisingPromotesTheLowestValue) {
  AshaPruner asha(1, 2, 8, false, true);
  for (int trial = 0; trial < 4; ++trial) asha.should_stop(trial, 1, 1.0 + trial);
  const auto all = [](int) { return true; };
  EXPECT_EQ(asha.promote(all), 0);
  EXPECT_EQ(asha.promote(all), 1);
  EXPECT_EQ(asha.promote(all), std::nullopt);
}

}  // namespace
}  // namespace fersweep::search
