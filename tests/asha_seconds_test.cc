// Cost-aware ASHA: rungs in seconds of training, so that trials are compared at equal cost.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "search_spaces/pruners.h"

namespace fersweep::search {
namespace {

// Reports one epoch of `trial` after `seconds` of training in all: stopped?
bool report(AshaPruner& asha, int trial, int epoch, double seconds, double value) {
  asha.trained_for(trial, seconds);
  return asha.should_stop(trial, epoch, value);
}

// A cheap trial of 8 epochs at 5 s each, reporting `values` (value at epoch e = values[e - 1]
// while they last, then the last one): ends finished with its last value.
void run_cheap(AshaPruner& asha, int trial, const std::vector<double>& values) {
  double last = 0;
  for (int epoch = 1; epoch <= 8; ++epoch) {
    last = values[std::min<size_t>(epoch - 1, values.size() - 1)];
    asha.trained_for(trial, 5.0 * epoch);
    if (epoch < 8) {
      ASSERT_FALSE(asha.should_stop(trial, epoch, last)) << "trial " << trial << " epoch " << epoch;
    }
  }
  asha.trial_ended(trial, true, std::vector<double>{last});
}

TEST(AshaSeconds, RungsAreMinSecondsTimesPowersOfEta) {
  const auto asha = AshaPruner::in_seconds(10, 3, {true});
  const std::vector<double>& rungs = asha->rung_seconds();
  ASSERT_GE(rungs.size(), 5u);
  EXPECT_DOUBLE_EQ(rungs[0], 10);
  EXPECT_DOUBLE_EQ(rungs[1], 30);
  EXPECT_DOUBLE_EQ(rungs[4], 810);
  EXPECT_GT(rungs.back(), 3.15e7) << "rungs stop short of a year of training";
  EXPECT_TRUE(asha->rungs().empty()) << "no rung is an epoch";
  EXPECT_FALSE(asha->first_judged_at(0)) << "no epoch a sampler could propose a fidelity for";
}

TEST(AshaSeconds, ATrialIsJudgedOnceAtEachRungItCrosses) {
  const auto asha = AshaPruner::in_seconds(10, 3, {true});
  asha->trained_for(0, 6);
  EXPECT_FALSE(asha->is_rung(0, 1));
  EXPECT_FALSE(asha->should_stop(0, 1, 0.3));
  asha->trained_for(0, 12);  // crosses 10 s
  EXPECT_TRUE(asha->is_rung(0, 2));
  EXPECT_FALSE(asha->should_stop(0, 2, 0.4)) << "the first arrival continues";
  asha->trained_for(0, 18);  // still between 10 s and 30 s: judged there already
  EXPECT_FALSE(asha->is_rung(0, 3));
  // A second trial arriving at 10 s below the first is outside the top max(1, floor(2 / 3)).
  EXPECT_TRUE(report(*asha, 1, 2, 11, 0.2));
  // A third, above both, continues.
  EXPECT_FALSE(report(*asha, 2, 2, 11, 0.5));
}

TEST(AshaSeconds, ASlowTrialMeetsWhatCheapTrialsReachedInTheSameTime) {
  // Three cheap trials, each better than the one before, finish all 8 epochs in 40 s, judged at
  // 10 s and 30 s on the way.
  const auto asha = AshaPruner::in_seconds(10, 3, {true});
  run_cheap(*asha, 0, {0.5, 0.6});
  run_cheap(*asha, 1, {0.5, 0.7});
  run_cheap(*asha, 2, {0.5, 0.8});
  // A slow network's first epoch takes 150 s: it crosses 10, 30 and 90 s at once and is judged at
  // 90 s only, against the finished trials' final values 0.6, 0.7 and 0.8. With n = 4 only the
  // top one continues.
  asha->trained_for(3, 150);
  EXPECT_TRUE(asha->is_rung(3, 1));
  EXPECT_TRUE(asha->should_stop(3, 1, 0.79));
  // The same network, better than all of them at that cost, continues; next judged at 270 s.
  EXPECT_FALSE(report(*asha, 4, 1, 150, 0.81));
  asha->trained_for(4, 200);
  EXPECT_FALSE(asha->is_rung(4, 2));
  asha->trained_for(4, 300);
  EXPECT_TRUE(asha->is_rung(4, 3));
}

TEST(AshaSeconds, WithoutFinishedTrialsAboveItASlowTrialWouldPassAlone) {
  // The same slow trial, when the cheap trials ended unfinished: only finished trials count at
  // rungs above their cost, so it arrives first at 90 s and continues, however bad. This is the
  // trap that counting finished trials removes.
  const auto asha = AshaPruner::in_seconds(10, 3, {true});
  for (int trial = 0; trial < 3; ++trial) {
    report(*asha, trial, 2, 10, 0.9);
    asha->trial_ended(trial, false, std::vector<double>{0.9});
  }
  EXPECT_FALSE(report(*asha, 3, 1, 150, 0.1));
}

TEST(AshaSeconds, AFinishedTrialCountsFromTheRungAfterItsLastJudgement) {
  // A trial judged at 10 s, finished at 95 s: its last epochs crossed 30 s and 90 s unjudged,
  // so it counts there, and above, with its final value.
  const auto asha = AshaPruner::in_seconds(10, 3, {false});  // minimise
  EXPECT_FALSE(report(*asha, 0, 1, 12, 0.5));
  asha->trained_for(0, 95);
  asha->trial_ended(0, true, std::vector<double>{0.2});
  // At 30 s, 90 s and 270 s another trial now needs a value at or below 0.2 to continue
  // (n = 2: the top 1).
  EXPECT_TRUE(report(*asha, 1, 3, 31, 0.25));
  EXPECT_FALSE(report(*asha, 2, 3, 31, 0.2));
  EXPECT_TRUE(report(*asha, 3, 9, 280, 0.21));
}

TEST(AshaSeconds, SeveralObjectivesRankByNonDominatedSorting) {
  const auto asha = AshaPruner::in_seconds(10, 2, {true, false});  // accuracy up, size down
  asha->trained_for(0, 10);
  EXPECT_FALSE(asha->should_stop(0, 1, std::vector<double>{0.8, 5.0}));
  asha->trained_for(1, 10);
  // Dominated by trial 0 (lower accuracy, larger): n = 2 keeps 1.
  EXPECT_TRUE(asha->should_stop(1, 1, std::vector<double>{0.7, 6.0}));
}

TEST(AshaSeconds, AReportDeadlineIsOffUnlessAsked) {
  const auto asha = AshaPruner::in_seconds(10, 3, {true});
  EXPECT_FALSE(report(*asha, 0, 1, 12, 0.5));
  EXPECT_FALSE(asha->report_deadline(1, 0)) << "a silent trial may take any time";
  AshaPruner epochs(1, 3, 27, true);
  EXPECT_FALSE(epochs.report_deadline(1, 0));
}

TEST(AshaSeconds, ASilentTrialMustReportBeforeTheRungAfterOneHoldingAValue) {
  const auto asha = AshaPruner::in_seconds(10, 3, {true}, /*report_deadline=*/true);
  EXPECT_FALSE(asha->report_deadline(0, 0)) << "no rung holds a value: nothing to lose against";
  EXPECT_FALSE(report(*asha, 0, 1, 12, 0.5));  // 0.5 at the 10 s rung
  // A new trial must report before 30 s: silent there, it would have passed 10 s with nothing.
  EXPECT_EQ(asha->report_deadline(1, 0), 30.0);
  EXPECT_EQ(asha->report_deadline(1, 9.9), 30.0);
  // Past 10 s, the next rung ahead (30 s) holds nothing yet: no deadline until it does.
  EXPECT_FALSE(asha->report_deadline(1, 12));
  EXPECT_FALSE(report(*asha, 0, 3, 31, 0.6));  // 0.6 at the 30 s rung
  EXPECT_EQ(asha->report_deadline(1, 12), 90.0);
  // A rung whose values are all missing (NaN, as bad as silence) does not set one.
  const auto blank = AshaPruner::in_seconds(10, 3, {true}, true);
  EXPECT_FALSE(report(*blank, 0, 1, 12, NAN));
  EXPECT_FALSE(blank->report_deadline(1, 0));
}

TEST(AshaSeconds, EpochRungsIgnoreTrainingTime) {
  AshaPruner asha(1, 3, 27, true);
  asha.trained_for(0, 1000);
  EXPECT_FALSE(asha.is_rung(0, 2)) << "epoch 2 is no rung, however long it took";
  EXPECT_TRUE(asha.is_rung(0, 3));
}

}  // namespace
}  // namespace fersweep::search
