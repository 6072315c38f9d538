// The measured ASHA ladder (search_spaces/measured_ladder.h): probes train unjudged to the
// horizon, their agreement chooses the rung and the quota, and every trial that waited for the
// choice lands where the chosen ladder puts it.
#include "search_spaces/measured_ladder.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace fersweep::search {
namespace {

TEST(TopHalfAgreement, CountsOnlyPairsWithAMemberInTheBetterHalf) {
  EXPECT_DOUBLE_EQ(top_half_agreement({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(top_half_agreement({4, 3, 2, 1}, {10, 20, 30, 40}), -1.0);
  // The worse half (10, 20) swapped: that pair is not counted, the other five agree.
  EXPECT_DOUBLE_EQ(top_half_agreement({2, 1, 3, 4}, {10, 20, 30, 40}), 1.0);
  // The best two swapped: one of five pairs disagrees.
  EXPECT_DOUBLE_EQ(top_half_agreement({1, 2, 4, 3}, {10, 20, 30, 40}), 0.6);
  EXPECT_DOUBLE_EQ(top_half_agreement({5, 5, 5}, {1, 2, 3}), 0.0) << "ties agree with nothing";
}

// min_epochs 1, eta 3, 27 epochs: candidate rungs 1, 3 and 9; the horizon is 9.
struct Sweep {
  explicit Sweep(int probes = 4) : ladder(1, 3, 27, true, probes) {}
  // Reports the epochs of a trial whose value after epoch e is value(e); true if it paused.
  template <typename Value>
  bool train(int trial, int from, int to, Value value) {
    for (int epoch = from; epoch <= to; ++epoch) {
      if (ladder.should_stop(trial, epoch, value(epoch))) {
        paused.insert(trial);
        return true;
      }
    }
    return false;
  }
  std::optional<int> promote() {
    const auto found = ladder.promote([&](int t) { return paused.contains(t); });
    if (found) paused.erase(*found);
    return found;
  }
  MeasuredLadderPruner ladder;
  std::set<int> paused;
};

TEST(MeasuredLadder, ProbesTrainUnjudgedToTheHorizonAndOthersWaitAtTheFirstRung) {
  Sweep sweep;
  EXPECT_EQ(sweep.ladder.candidates(), (std::vector<int>{1, 3, 9}));
  EXPECT_EQ(sweep.ladder.first_judged_at(0), 9) << "a probe is first compared at the horizon";
  EXPECT_EQ(sweep.ladder.first_judged_at(4), 1);
  EXPECT_TRUE(sweep.ladder.is_rung(0, 9));
  EXPECT_FALSE(sweep.ladder.is_rung(0, 1));
  EXPECT_TRUE(sweep.ladder.is_rung(4, 1));
  EXPECT_EQ(sweep.ladder.model_fidelities(), (std::vector<int>{1, 3, 9, 27}));

  EXPECT_TRUE(sweep.train(0, 1, 27, [](int e) { return 0.1 * e; }));
  EXPECT_TRUE(sweep.paused.contains(0));
  EXPECT_EQ(sweep.promote(), std::nullopt) << "nothing moves before the ladder is chosen";
  EXPECT_TRUE(sweep.train(4, 1, 27, [](int e) { return 0.5; }));
  EXPECT_EQ(sweep.ladder.ladder(), nullptr);
}

// Every probe ranks alike at every epoch: the first rung agrees perfectly, becomes the only
// rung, and promotes its top 1/27 straight to the last epoch. The probes and the trial that waited
// arrive there with their epoch-1 values.
TEST(MeasuredLadder, AgreeingRungsCollapseToTheFirstWithTheWholeLaddersQuota) {
  Sweep sweep;
  for (int probe = 0; probe < 4; ++probe) {
    sweep.train(probe, 1, 27, [&](int e) { return 0.1 * probe + 0.01 * e; });
    if (probe == 1) sweep.train(4, 1, 27, [](int) { return 0.9; });  // waits at epoch 1
  }
  ASSERT_NE(sweep.ladder.ladder(), nullptr);
  EXPECT_EQ(sweep.ladder.ladder()->rungs(), (std::vector<int>{1}));
  EXPECT_DOUBLE_EQ(sweep.ladder.agreement().at(1), 1.0);
  EXPECT_DOUBLE_EQ(sweep.ladder.agreement().at(3), 1.0);
  EXPECT_EQ(sweep.ladder.model_fidelities(), (std::vector<int>{1, 27}));
  EXPECT_EQ(sweep.ladder.first_judged_at(9), 1);
  const std::vector<std::string> notes = sweep.ladder.take_notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("one rung, at epoch 1, promoting its top 1/27"), std::string::npos)
      << notes[0];
  EXPECT_TRUE(sweep.ladder.take_notes().empty()) << "each note is told once";

  EXPECT_EQ(sweep.promote(), std::nullopt) << "5 arrivals at rung 1: none is in a top 1/27";
  for (int trial = 5; trial < 27; ++trial) sweep.train(trial, 1, 1, [](int) { return 0.0; });
  EXPECT_EQ(sweep.promote(), 4) << "27 arrivals: the best, the trial that waited (0.9)";
  EXPECT_EQ(sweep.promote(), std::nullopt);
}

// Early epochs rank the probes against the horizon: no lower rung agrees, so the horizon is the
// only rung with ASHA's own quota, the probes arrive there, and the trial waiting at epoch 1 goes
// on unjudged to epoch 9 before any new trial starts.
TEST(MeasuredLadder, DisagreeingRungsLeaveOneRungAtTheHorizon) {
  Sweep sweep;
  sweep.train(4, 1, 27, [](int) { return 0.9; });  // waits at epoch 1
  for (int probe = 0; probe < 4; ++probe) {
    // Fast learners lead early, slow ones at 9: the order reverses.
    sweep.train(probe, 1, 27, [&](int e) { return e < 9 ? 1.0 - 0.1 * probe : 0.1 * probe; });
  }
  ASSERT_NE(sweep.ladder.ladder(), nullptr);
  EXPECT_EQ(sweep.ladder.ladder()->rungs(), (std::vector<int>{9}));
  EXPECT_DOUBLE_EQ(sweep.ladder.agreement().at(1), -1.0);
  EXPECT_EQ(sweep.ladder.first_judged_at(9), 9);
  EXPECT_EQ(sweep.promote(), 3) << "the horizon's best of 4 probes (top 1 of 4 / 3)";
  EXPECT_EQ(sweep.promote(), 4) << "then the waiting trial, unjudged, on to epoch 9";
  EXPECT_EQ(sweep.promote(), std::nullopt);
  EXPECT_FALSE(sweep.train(4, 2, 8, [](int) { return 0.9; }));
  EXPECT_TRUE(sweep.train(4, 9, 9, [](int) { return 0.95; })) << "judged at the horizon";
  EXPECT_EQ(sweep.promote(), 4) << "5 at rung 9: top 1 is 0.95";
}

TEST(MeasuredLadder, ProbesThatFailBelowTheHorizonCountAsDoneAndTooFewKeepTheFixedLadder) {
  Sweep sweep;
  sweep.train(0, 1, 27, [](int e) { return 0.1 * e; });
  sweep.ladder.trial_ended(1, false, {});
  sweep.ladder.trial_ended(2, false, {});
  EXPECT_EQ(sweep.ladder.ladder(), nullptr);
  sweep.train(3, 1, 27, [](int e) { return 0.2 * e; });
  ASSERT_NE(sweep.ladder.ladder(), nullptr) << "chosen once every probe is in or gone";
  EXPECT_EQ(sweep.ladder.ladder()->rungs(), (std::vector<int>{1, 3, 9}))
      << "2 probes measure nothing: ASHA's own ladder";
  EXPECT_TRUE(sweep.ladder.agreement().empty());
}

// Six probes, four of them at the horizon while two still train: once a later trial has started,
// a free worker takes the horizon's best on before the choice, if no lower rung agrees there.
// The horizon's quota after the choice (6 / 3 = 2) then lets one more through.
TEST(MeasuredLadder, AFreeWorkerTakesTheHorizonsBestOnBeforeTheChoiceWhereNoRungAgrees) {
  Sweep sweep(6);
  auto reversing = [](int probe) {
    return [probe](int e) { return e < 9 ? 1.0 - 0.1 * probe : 0.1 * probe; };
  };
  for (int probe = 0; probe < 4; ++probe) sweep.train(probe, 1, 27, reversing(probe));
  EXPECT_EQ(sweep.promote(), std::nullopt) << "probes 4 and 5 have not started: they go first";
  sweep.train(6, 1, 27, [](int) { return 0.5; });  // every probe has started
  EXPECT_EQ(sweep.promote(), 3) << "the best of 4 at epoch 9, top 4 / 3 = 1";
  EXPECT_EQ(sweep.promote(), std::nullopt) << "one place among four";
  std::vector<std::string> notes = sweep.ladder.take_notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("a probe in the top 1/3 of the 4 at epoch 9 so far goes on before the "
                          "choice"),
            std::string::npos)
      << notes[0];
  EXPECT_FALSE(sweep.train(3, 10, 26, reversing(3))) << "nothing judges it before epoch 27";

  for (int probe = 4; probe < 6; ++probe) {  // quick starters that end worst
    sweep.train(probe, 1, 27, [&](int e) { return e < 9 ? 0.95 : 0.01 * probe; });
  }
  ASSERT_NE(sweep.ladder.ladder(), nullptr);
  EXPECT_EQ(sweep.ladder.ladder()->rungs(), (std::vector<int>{9}));
  EXPECT_EQ(sweep.promote(), 2) << "top 2 of 6: probe 3 already went on, then probe 2";
  EXPECT_EQ(sweep.promote(), 6) << "then the trial waiting at epoch 1, unjudged, to epoch 9";
  EXPECT_EQ(sweep.promote(), std::nullopt);
}

// Where a lower rung agrees with the horizon on the probes so far, the choice will likely judge
// there, with a quota that may not keep the horizon's best: nothing goes on before it.
TEST(MeasuredLadder, NoProbeGoesOnBeforeTheChoiceWhereAnEarlyRungAgrees) {
  Sweep sweep(6);
  for (int probe = 0; probe < 4; ++probe) {
    sweep.train(probe, 1, 27, [&](int e) { return 0.1 * probe + 0.01 * e; });
  }
  sweep.train(6, 1, 27, [](int) { return 0.5; });
  EXPECT_EQ(sweep.promote(), std::nullopt);
  EXPECT_TRUE(sweep.ladder.take_notes().empty());
}

// A resumed sweep replays each stored trial's rung epochs, then says how far it trained. A probe
// paused at the horizon trained past the chosen rung without being promoted from it, and a trial
// that waited at epoch 1 below a later first rung still goes on unjudged.
TEST(MeasuredLadder, AResumedSweepRebuildsTheSameChoiceAndWaitingTrials) {
  Sweep resumed;
  for (int probe = 0; probe < 4; ++probe) {
    resumed.train(probe, 1, 27, [&](int e) { return 0.1 * probe + 0.01 * e; });
    resumed.ladder.trained_past(probe, 9);
  }
  ASSERT_NE(resumed.ladder.ladder(), nullptr);
  ASSERT_EQ(resumed.ladder.ladder()->rungs(), (std::vector<int>{1}));
  for (int trial = 4; trial < 30; ++trial) {
    resumed.train(trial, 1, 1, [&](int) { return trial == 29 ? 0.0 : 0.05; });
    resumed.ladder.trained_past(trial, 1);
  }
  EXPECT_EQ(resumed.promote(), 3) << "probe 3 leads rung 1 and was never promoted";

  Sweep late;
  late.train(4, 1, 27, [](int) { return 0.9; });
  for (int probe = 0; probe < 4; ++probe) {
    late.train(probe, 1, 27, [&](int e) { return e < 9 ? 1.0 - 0.1 * probe : 0.1 * probe; });
  }
  Sweep replayed;  // the same, replayed in trial order as a resume does
  for (int probe = 0; probe < 4; ++probe) {
    replayed.train(probe, 1, 27, [&](int e) { return e < 9 ? 1.0 - 0.1 * probe : 0.1 * probe; });
    replayed.ladder.trained_past(probe, 9);
  }
  replayed.ladder.should_stop(4, 1, 0.9);
  replayed.ladder.trained_past(4, 1);
  replayed.paused.insert(4);
  EXPECT_EQ(replayed.ladder.ladder()->rungs(), late.ladder.ladder()->rungs());
  EXPECT_EQ(replayed.promote(), 3);
  EXPECT_EQ(replayed.promote(), 4) << "below the first rung, unjudged: it goes on";
}

}  // namespace
}  // namespace fersweep::search
