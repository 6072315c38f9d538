#include "common/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "common/random.h"

namespace fersweep {
namespace {

// Five points in 2-D: three non-dominated, (3,4) behind (2,3), (5,5) behind everything.
const std::vector<ObjectiveVector> kPlane = {{1, 5}, {2, 3}, {4, 1}, {3, 4}, {5, 5}};

TEST(Pareto, DominanceNeedsOneStrictImprovement) {
  EXPECT_TRUE(dominates(std::vector{1.0, 2.0}, std::vector{1.0, 3.0}));
  EXPECT_FALSE(dominates(std::vector{1.0, 3.0}, std::vector{1.0, 3.0}));
  EXPECT_FALSE(dominates(std::vector{1.0, 4.0}, std::vector{2.0, 3.0}));
}

TEST(Pareto, FrontsOfHandPlacedPoints) {
  const auto fronts = nondominated_fronts(kPlane);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(fronts[1], (std::vector<size_t>{3}));
  EXPECT_EQ(fronts[2], (std::vector<size_t>{4}));
  EXPECT_EQ(nondominated_ranks(kPlane), (std::vector<int>{0, 0, 0, 1, 2}));
}

TEST(Pareto, EqualPointsShareAFront) {
  EXPECT_EQ(nondominated_ranks({{1, 1}, {1, 1}, {2, 2}}), (std::vector<int>{0, 0, 1}));
}

TEST(Pareto, FrontsInThreeObjectives) {
  // (3,3,3) is behind (1,1,3); the other three trade off.
  const std::vector<ObjectiveVector> points = {{1, 1, 3}, {2, 2, 1}, {3, 3, 3}, {0, 4, 4}};
  EXPECT_EQ(nondominated_ranks(points), (std::vector<int>{0, 0, 1, 0}));
}

TEST(Pareto, HypervolumeInTwoDimensions) {
  // Staircase with reference (6,6): 5*1 + 4*2 + 2*2 = 17; dominated points add nothing.
  EXPECT_DOUBLE_EQ(hypervolume(kPlane, {6, 6}), 17);
  EXPECT_DOUBLE_EQ(hypervolume({{1, 5}, {2, 3}, {4, 1}}, {6, 6}), 17);
  // A point on or beyond the reference adds nothing either.
  EXPECT_DOUBLE_EQ(hypervolume({{6, 0}, {0, 7}}, {6, 6}), 0);
  EXPECT_DOUBLE_EQ(hypervolume({}, {6, 6}), 0);
}

TEST(Pareto, HypervolumeInThreeDimensions) {
  // Boxes 3x3x1 and 2x2x3 overlapping in 2x2x1: 9 + 12 - 4.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 1, 3}, {2, 2, 1}, {3, 3, 3}}, {4, 4, 4}), 17);
}

TEST(Pareto, ContributionsAreTheExclusiveVolumes) {
  // (2,3) alone covers [2,4]x[3,5] but (3,4), behind it, covers [3,4]x[4,5] of that: 4 - 1.
  const auto two_d = hypervolume_contributions(kPlane, {6, 6});
  const std::vector<double> expected_2d = {1, 3, 4, 0, 0};
  for (size_t i = 0; i < expected_2d.size(); ++i) EXPECT_DOUBLE_EQ(two_d[i], expected_2d[i]);
  const auto three_d = hypervolume_contributions({{1, 1, 3}, {2, 2, 1}, {3, 3, 3}}, {4, 4, 4});
  EXPECT_DOUBLE_EQ(three_d[0], 5);
  EXPECT_DOUBLE_EQ(three_d[1], 8);
  EXPECT_DOUBLE_EQ(three_d[2], 0);
}

// Inclusion-exclusion over every subset: exponential, but independent of the slicing algorithm.
double hypervolume_by_inclusion_exclusion(const std::vector<ObjectiveVector>& points,
                                          const ObjectiveVector& reference) {
  double total = 0;
  for (uint32_t subset = 1; subset < (1u << points.size()); ++subset) {
    ObjectiveVector corner(reference.size(), -INFINITY);
    int members = 0;
    for (size_t i = 0; i < points.size(); ++i) {
      if (!(subset >> i & 1)) continue;
      ++members;
      for (size_t m = 0; m < corner.size(); ++m) corner[m] = std::max(corner[m], points[i][m]);
    }
    double volume = 1;
    for (size_t m = 0; m < corner.size(); ++m) volume *= std::max(0.0, reference[m] - corner[m]);
    total += members % 2 ? volume : -volume;
  }
  return total;
}

TEST(Pareto, HypervolumeAgreesWithInclusionExclusionInThreeAndFourDimensions) {
  Rng rng(7);
  for (size_t dims : {3u, 4u}) {
    for (int round = 0; round < 20; ++round) {
      std::vector<ObjectiveVector> points(9, ObjectiveVector(dims));
      for (auto& p : points) {
        for (double& x : p) x = uniform01(rng);
      }
      const ObjectiveVector reference(dims, 1.0);
      EXPECT_NEAR(hypervolume(points, reference),
                  hypervolume_by_inclusion_exclusion(points, reference), 1e-12)
          << dims << "-D, round " << round;
    }
  }
}

TEST(Pareto, CrowdingDistanceOfAHandPlacedFront) {
  // The middle point's neighbours span the whole range in both objectives: 3/3 + 4/4.
  const auto distances = crowding_distances(kPlane, {0, 1, 2});
  EXPECT_TRUE(std::isinf(distances[0]));
  EXPECT_DOUBLE_EQ(distances[1], 2);
  EXPECT_TRUE(std::isinf(distances[2]));
  EXPECT_TRUE(std::isinf(crowding_distances(kPlane, {0, 1})[1]));
}

TEST(Pareto, GreedySubsetTakesTheLargestGainEachTime) {
  // Alone: 5, 12, 10; with (2,3) chosen, (4,1) adds 4 and (1,5) adds 1.
  EXPECT_EQ(greedy_hypervolume_subset({{1, 5}, {2, 3}, {4, 1}}, 2, {6, 6}),
            (std::vector<size_t>{1, 2}));
  EXPECT_EQ(greedy_hypervolume_subset({{1, 5}, {2, 3}}, 5, {6, 6}).size(), 2u);
}

TEST(Pareto, ReferenceLiesBeyondTheWorstOfEachObjective) {
  const ObjectiveVector reference = reference_beyond({{1, -2}, {3, -4}});
  ASSERT_EQ(reference.size(), 2u);
  EXPECT_DOUBLE_EQ(reference[0], 3.3);
  EXPECT_DOUBLE_EQ(reference[1], -1.8);
  EXPECT_EQ(reference_beyond({{0, 0}}), (ObjectiveVector{1e-12, 1e-12}));
}

}  // namespace
}  // namespace fersweep
