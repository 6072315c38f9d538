#include "results/importance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "results/queries.h"

namespace fersweep::results {
namespace {

using Matrix = std::vector<std::vector<double>>;  // [trial][feature]

// Numbers stay numbers (log when positive and spanning over 20x, as learning rates); anything
// else (strings, lists, booleans) becomes the index of its value in sorted order. Trees split on
// thresholds, so an arbitrary order of categories costs splits, not correctness.
Matrix encode(const std::vector<nlohmann::json>& params, std::vector<std::string>& names) {
  std::set<std::string> all;
  for (const auto& p : params) {
    for (const auto& [name, v] : p.items()) all.insert(name);
  }
  Matrix x(params.size());
  for (const auto& name : all) {
    std::set<std::string> distinct;
    bool numeric = true;
    for (const auto& p : params) {
      const nlohmann::json v = p.contains(name) ? p[name] : nlohmann::json();
      distinct.insert(v.dump());
      numeric = numeric && v.is_number();
    }
    if (distinct.size() < 2) continue;
    names.push_back(name);
    double lo = INFINITY, hi = -INFINITY;
    if (numeric) {
      for (const auto& p : params)
        lo = std::min(lo, p[name].get<double>()), hi = std::max(hi, p[name].get<double>());
    }
    const bool log_scale = numeric && lo > 0 && hi / lo > 20;
    const std::vector<std::string> order(distinct.begin(), distinct.end());
    for (size_t i = 0; i < params.size(); ++i) {
      if (numeric) {
        const double v = params[i][name].get<double>();
        x[i].push_back(log_scale ? std::log(v) : v);
      } else {
        const std::string key = params[i].contains(name) ? params[i][name].dump() : "null";
        x[i].push_back(
            static_cast<double>(std::find(order.begin(), order.end(), key) - order.begin()));
      }
    }
  }
  return x;
}

struct Node {
  int feature = -1;  // -1: leaf
  double threshold = 0, value = 0;
  int left = -1, right = -1;
};

class Tree {
 public:
  Tree(const Matrix& x, const std::vector<double>& y, std::vector<size_t> rows, Rng& rng) {
    build(x, y, rows, rng);
  }
  double predict(const std::vector<double>& row) const {
    int n = 0;
    while (nodes_[n].feature >= 0) {
      n = row[nodes_[n].feature] <= nodes_[n].threshold ? nodes_[n].left : nodes_[n].right;
    }
    return nodes_[n].value;
  }

 private:
  static constexpr size_t kMinLeaf = 2;

  int build(const Matrix& x, const std::vector<double>& y, std::vector<size_t>& rows, Rng& rng) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    double sum = 0;
    for (const size_t r : rows) sum += y[r];
    nodes_[id].value = sum / static_cast<double>(rows.size());
    if (rows.size() < 2 * kMinLeaf) return id;
    // Best variance-reducing split over a random third of the features (at least one).
    const size_t features = x[0].size();
    std::vector<size_t> candidates(features);
    std::iota(candidates.begin(), candidates.end(), 0);
    shuffle(candidates, rng);
    candidates.resize(std::max<size_t>(1, (features + 2) / 3));
    double best_score = 0, best_threshold = 0;
    int best_feature = -1;
    for (const size_t f : candidates) {
      std::vector<size_t> sorted = rows;
      std::sort(sorted.begin(), sorted.end(),
                [&](size_t a, size_t b) { return x[a][f] < x[b][f]; });
      double left_sum = 0, left_sq = 0, total_sq = 0;
      for (const size_t r : sorted) total_sq += y[r] * y[r];
      const auto n = static_cast<double>(sorted.size());
      const double parent = total_sq - sum * sum / n;
      for (size_t i = 0; i + 1 < sorted.size(); ++i) {
        left_sum += y[sorted[i]], left_sq += y[sorted[i]] * y[sorted[i]];
        if (i + 1 < kMinLeaf || sorted.size() - i - 1 < kMinLeaf) continue;
        if (x[sorted[i]][f] == x[sorted[i + 1]][f]) continue;
        const double nl = static_cast<double>(i + 1), nr = n - nl;
        const double right_sum = sum - left_sum, right_sq = total_sq - left_sq;
        const double children =
            (left_sq - left_sum * left_sum / nl) + (right_sq - right_sum * right_sum / nr);
        if (parent - children > best_score + 1e-12) {
          best_score = parent - children;
          best_feature = static_cast<int>(f);
          best_threshold = (x[sorted[i]][f] + x[sorted[i + 1]][f]) / 2;
        }
      }
    }
    if (best_feature < 0) return id;
    std::vector<size_t> left, right;
    for (const size_t r : rows) (x[r][best_feature] <= best_threshold ? left : right).push_back(r);
    nodes_[id].feature = best_feature;
    nodes_[id].threshold = best_threshold;
    const int l = build(x, y, left, rng);
    const int r = build(x, y, right, rng);
    nodes_[id].left = l;
    nodes_[id].right = r;
    return id;
  }

  std::vector<Node> nodes_;
};

}  // namespace

std::vector<Importance> parameter_importance(const std::vector<nlohmann::json>& params,
                                             const std::vector<double>& objective, uint64_t seed,
                                             int trees) {
  if (params.size() != objective.size()) throw std::invalid_argument("importance: size mismatch");
  if (params.size() < 4) {
    throw InputError(
        fmt::format("importance: needs at least 4 finished trials, got {}", params.size()));
  }
  std::vector<std::string> names;
  const Matrix x = encode(params, names);
  std::vector<Importance> out;
  if (names.empty()) return out;
  Rng rng(seed);
  const size_t n = params.size();
  std::vector<double> increase(names.size(), 0.0);
  for (int t = 0; t < trees; ++t) {
    std::vector<size_t> sample(n);
    std::vector<bool> in_bag(n, false);
    for (auto& s : sample) s = uniform_index(rng, n), in_bag[s] = true;
    std::vector<size_t> oob;
    for (size_t i = 0; i < n; ++i) {
      if (!in_bag[i]) oob.push_back(i);
    }
    if (oob.size() < 2) continue;
    const Tree tree(x, objective, sample, rng);
    const auto error = [&](const Matrix& rows) {
      double e = 0;
      for (size_t k = 0; k < oob.size(); ++k) {
        const double d = tree.predict(rows[k]) - objective[oob[k]];
        e += d * d;
      }
      return e / static_cast<double>(oob.size());
    };
    Matrix rows;
    for (const size_t i : oob) rows.push_back(x[i]);
    const double base = error(rows);
    for (size_t f = 0; f < names.size(); ++f) {
      Matrix shuffled = rows;
      for (size_t k = oob.size() - 1; k > 0; --k) {
        std::swap(shuffled[k][f], shuffled[uniform_index(rng, k + 1)][f]);
      }
      increase[f] += error(shuffled) - base;
    }
  }
  double total = 0;
  for (double& v : increase) total += (v = std::max(0.0, v));
  for (size_t f = 0; f < names.size(); ++f) {
    out.push_back({names[f], total > 0 ? increase[f] / total : 0.0});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.share > b.share; });
  return out;
}

ImportanceView sweep_importance(const Reader& reader, const SweepSummary& sweep) {
  std::vector<nlohmann::json> params;
  std::vector<double> objective;
  for (const auto& t : reader.rank(sweep.id, sweep.metric, sweep.maximize, 1000000)) {
    params.push_back(t.params);
    objective.push_back(t.metrics.at(sweep.metric));
  }
  return {sweep.metric, params.size(), parameter_importance(params, objective)};
}

std::string importance_table(const ImportanceView& view) {
  std::string table = fmt::format("{:<20} {:>8}  (of {} over {} finished trials)\n", "parameter",
                                  "share", view.metric, view.trials);
  for (const auto& i : view.importance) {
    table += fmt::format("{:<20} {:>8.3f}  {}\n", i.parameter.substr(0, 20), i.share,
                         std::string(static_cast<size_t>(std::lround(i.share * 40)), '#'));
  }
  return table;
}

nlohmann::json importance_json(const ImportanceView& view) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& i : view.importance)
    rows.push_back({{"parameter", i.parameter}, {"share", i.share}});
  return {{"metric", view.metric}, {"importance", rows}};
}

}  // namespace fersweep::results
