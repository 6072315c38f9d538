#include "common/pareto.h"

#include <algorithm>
#include <limits>

namespace fersweep {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Points strictly inside the reference box: only they dominate any volume.
std::vector<ObjectiveVector> inside(std::vector<ObjectiveVector> points,
                                    const ObjectiveVector& reference) {
  std::erase_if(points, [&](const ObjectiveVector& p) {
    for (size_t m = 0; m < reference.size(); ++m) {
      if (!(p[m] < reference[m])) return true;
    }
    return false;
  });
  return points;
}

double hypervolume_2d(std::vector<ObjectiveVector>& points, const ObjectiveVector& reference) {
  std::sort(points.begin(), points.end());
  double volume = 0, lowest = reference[1];
  for (const ObjectiveVector& p : points) {
    if (p[1] < lowest) {
      volume += (reference[0] - p[0]) * (lowest - p[1]);
      lowest = p[1];
    }
  }
  return volume;
}

// Slices along the last objective: between consecutive values of it, the section is the
// (d-1)-dimensional hypervolume of the points below.
double hypervolume_inside(std::vector<ObjectiveVector> points, const ObjectiveVector& reference) {
  const size_t d = reference.size();
  if (points.empty()) return 0;
  if (d == 1) {
    double best = reference[0];
    for (const ObjectiveVector& p : points) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  if (d == 2) return hypervolume_2d(points, reference);
  std::sort(points.begin(), points.end(), [&](const ObjectiveVector& a, const ObjectiveVector& b) {
    return a[d - 1] < b[d - 1];
  });
  const ObjectiveVector section_reference(reference.begin(), reference.end() - 1);
  std::vector<ObjectiveVector> below;
  double volume = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    below.emplace_back(points[i].begin(), points[i].end() - 1);
    const double top = i + 1 < points.size() ? points[i + 1][d - 1] : reference[d - 1];
    if (top > points[i][d - 1]) {
      volume += hypervolume_inside(below, section_reference) * (top - points[i][d - 1]);
    }
  }
  return volume;
}

}  // namespace

bool dominates(std::span<const double> a, std::span<const double> b) {
  bool better = false;
  for (size_t m = 0; m < a.size(); ++m) {
    if (a[m] > b[m]) return false;
    if (a[m] < b[m]) better = true;
  }
  return better;
}

std::vector<std::vector<size_t>> nondominated_fronts(const std::vector<ObjectiveVector>& points) {
  const size_t n = points.size();
  std::vector<std::vector<size_t>> dominated_by(n);  // i -> the points i dominates
  std::vector<size_t> dominators(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (dominates(points[i], points[j])) {
        dominated_by[i].push_back(j);
        ++dominators[j];
      } else if (dominates(points[j], points[i])) {
        dominated_by[j].push_back(i);
        ++dominators[i];
      }
    }
  }
  std::vector<std::vector<size_t>> fronts;
  std::vector<size_t> current;
  for (size_t i = 0; i < n; ++i) {
    if (dominators[i] == 0) current.push_back(i);
  }
  while (!current.empty()) {
    std::vector<size_t> next;
    for (size_t i : current) {
      for (size_t j : dominated_by[i]) {
        if (--dominators[j] == 0) next.push_back(j);
      }
    }
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<int> nondominated_ranks(const std::vector<ObjectiveVector>& points) {
  std::vector<int> ranks(points.size(), 0);
  const auto fronts = nondominated_fronts(points);
  for (size_t f = 0; f < fronts.size(); ++f) {
    for (size_t i : fronts[f]) ranks[i] = static_cast<int>(f);
  }
  return ranks;
}

std::vector<double> crowding_distances(const std::vector<ObjectiveVector>& points,
                                       const std::vector<size_t>& front) {
  const size_t n = front.size();
  std::vector<double> distance(n, 0);
  if (n <= 2) return std::vector<double>(n, kInf);
  std::vector<size_t> order(n);
  for (size_t m = 0; m < points[front[0]].size(); ++m) {
    for (size_t i = 0; i < n; ++i) order[i] = i;
    auto value = [&](size_t i) { return points[front[i]][m]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return value(a) < value(b); });
    const double span = value(order.back()) - value(order.front());
    distance[order.front()] = distance[order.back()] = kInf;
    if (!(span > 0)) continue;
    for (size_t k = 1; k + 1 < n; ++k) {
      distance[order[k]] += (value(order[k + 1]) - value(order[k - 1])) / span;
    }
  }
  return distance;
}

std::vector<CrowdedRank> crowded_order(const std::vector<ObjectiveVector>& points) {
  std::vector<CrowdedRank> order;
  const auto fronts = nondominated_fronts(points);
  for (size_t f = 0; f < fronts.size(); ++f) {
    const std::vector<double> crowding = crowding_distances(points, fronts[f]);
    std::vector<size_t> inside(fronts[f].size());
    for (size_t i = 0; i < inside.size(); ++i) inside[i] = i;
    std::stable_sort(inside.begin(), inside.end(),
                     [&](size_t a, size_t b) { return crowding[a] > crowding[b]; });
    for (size_t i : inside) order.push_back({fronts[f][i], static_cast<int>(f), crowding[i]});
  }
  return order;
}

double hypervolume(std::vector<ObjectiveVector> points, const ObjectiveVector& reference) {
  return hypervolume_inside(inside(std::move(points), reference), reference);
}

std::vector<double> hypervolume_contributions(const std::vector<ObjectiveVector>& points,
                                              const ObjectiveVector& reference) {
  const double total = hypervolume(points, reference);
  std::vector<double> contributions(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    std::vector<ObjectiveVector> others = points;
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
    contributions[i] = std::max(0.0, total - hypervolume(std::move(others), reference));
  }
  return contributions;
}

std::vector<size_t> greedy_hypervolume_subset(const std::vector<ObjectiveVector>& points,
                                              size_t count, const ObjectiveVector& reference) {
  std::vector<size_t> chosen;
  std::vector<bool> taken(points.size(), false);
  std::vector<ObjectiveVector> selected;
  while (chosen.size() < std::min(count, points.size())) {
    size_t best = points.size();
    double best_volume = -kInf;
    for (size_t i = 0; i < points.size(); ++i) {
      if (taken[i]) continue;
      selected.push_back(points[i]);
      const double volume = hypervolume(selected, reference);
      selected.pop_back();
      if (volume > best_volume) {
        best_volume = volume;
        best = i;
      }
    }
    taken[best] = true;
    chosen.push_back(best);
    selected.push_back(points[best]);
  }
  return chosen;
}

ObjectiveVector reference_beyond(const std::vector<ObjectiveVector>& points) {
  if (points.empty()) return {};
  ObjectiveVector worst = points.front();
  for (const ObjectiveVector& p : points) {
    for (size_t m = 0; m < worst.size(); ++m) worst[m] = std::max(worst[m], p[m]);
  }
  for (double& w : worst) {
    w = std::max(1.1 * w, 0.9 * w);
    if (w == 0) w = 1e-12;
  }
  return worst;
}

}  // namespace fersweep
