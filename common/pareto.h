#pragma once
// Pareto ordering of objective vectors: dominance, non-dominated sorting, crowding distance and
// the hypervolume indicator. Every function here minimises every coordinate; callers negate
// maximised objectives first. Shared by the multi-objective samplers, the
// multi-objective pruner and `fersweep results pareto`.
#include <cstddef>
#include <span>
#include <vector>

namespace fersweep {

using ObjectiveVector = std::vector<double>;

// a is no worse than b everywhere and better somewhere.
bool dominates(std::span<const double> a, std::span<const double> b);

// Deb's fast non-dominated sort: the fronts in order, each a list of indices into `points`;
// front 0 is the non-dominated set. Equal points share a front. All points need the same size.
std::vector<std::vector<size_t>> nondominated_fronts(const std::vector<ObjectiveVector>& points);
// The front index of every point.
std::vector<int> nondominated_ranks(const std::vector<ObjectiveVector>& points);

// NSGA-II's crowding distance of each member of `front` (indices into `points`), in the order of
// `front`: the sum over objectives of the normalised gap between its neighbours; the extremes of
// every objective get infinity, so they are always kept.
std::vector<double> crowding_distances(const std::vector<ObjectiveVector>& points,
                                       const std::vector<size_t>& front);

// Every point, best first: by non-dominated front, inside a front by crowding distance (the most
// isolated first; ties keep the lower index), with its front and crowding distance. NSGA-II's
// survival order, and multi-objective ASHA's ranking of a rung.
struct CrowdedRank {
  size_t index = 0;
  int front = 0;
  double crowding = 0;
};
std::vector<CrowdedRank> crowded_order(const std::vector<ObjectiveVector>& points);

// The volume dominated by `points` and bounded by `reference`; a point not strictly better than
// the reference in every objective adds nothing. Exact: a sweep in 2-D, slicing along the last
// objective above it (fine for the hundreds of points of a sweep in 3 or 4 objectives).
double hypervolume(std::vector<ObjectiveVector> points, const ObjectiveVector& reference);

// What each point alone adds to the hypervolume of all of them (0 for dominated points).
std::vector<double> hypervolume_contributions(const std::vector<ObjectiveVector>& points,
                                              const ObjectiveVector& reference);

// Greedy hypervolume subset selection: `count` indices of `points` chosen one at a time, each
// adding the most hypervolume to those already chosen (ties: the lower index). `count` at least
// the number of points returns them all.
std::vector<size_t> greedy_hypervolume_subset(const std::vector<ObjectiveVector>& points,
                                              size_t count, const ObjectiveVector& reference);

// A reference point just beyond the worst value of each objective among `points` (Optuna's rule:
// the larger of 1.1x and 0.9x the worst, and a small positive value where the worst is 0), so
// every point contributes. Empty points give an empty vector.
ObjectiveVector reference_beyond(const std::vector<ObjectiveVector>& points);

}  // namespace fersweep
