#pragma once
// Which parameters explain the objective: permutation importance on a random forest
// (Breiman 2001). A forest of regression trees is fit to (parameters -> objective) over the
// finished trials; a parameter's importance is how much the out-of-bag squared error grows when
// its column is shuffled among a tree's out-of-bag trials, averaged over the trees, floored at 0
// and normalised to sum to 1. Deterministic for a seed.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep::results {

struct Importance {
  std::string parameter;
  double share = 0;  // of the summed importance, in [0, 1]
};

// `params[i]` and `objective[i]` of trial i. Parameters constant over all trials are left out.
// Throws InputError below 4 trials (nothing to learn from).
std::vector<Importance> parameter_importance(const std::vector<nlohmann::json>& params,
                                             const std::vector<double>& objective,
                                             uint64_t seed = 1, int trees = 200);

// The importance of a sweep's parameters for its objective, over its finished trials, as a table
// with bars and as JSON.
struct SweepSummary;
class Reader;
struct ImportanceView {
  std::string metric;
  size_t trials = 0;
  std::vector<Importance> importance;
};
ImportanceView sweep_importance(const Reader& reader, const SweepSummary& sweep);
std::string importance_table(const ImportanceView& view);
nlohmann::json importance_json(const ImportanceView& view);

}  // namespace fersweep::results
