#pragma once
// Population Based Training's two steps (Jaderberg et al. 2017), as pure functions of the
// population's scores and a seeded stream, so that a sweep's lineage is reproducible and tested
// without training. The coordinator applies them (coordinator/sweep_driver.cc).
#include <cstdint>
#include <optional>
#include <vector>

#include "common/random.h"
#include "search_spaces/spec.h"

namespace fersweep::search {

struct MemberScore {
  int64_t member = 0;
  std::optional<double> value;  // the objective at the generation's epoch; none ranks last
};

struct Exploit {
  int64_t member = 0;  // replaced: it loads the parent's training state
  int64_t parent = 0;  // drawn from the top
};

// Truncation selection: ranks the members (best first; missing or non-finite values last, ties by
// member), and each of the bottom floor(quantile * n), at least one, copies a member drawn
// uniformly from the top as many. Fewer than two members: nothing to exploit.
std::vector<Exploit> plan_exploits(std::vector<MemberScore> members, bool maximize, double quantile,
                                   Rng& rng);

// Explore: every mutable parameter active in `params` is, with `resample_probability`, drawn
// afresh from its distribution; otherwise a number is multiplied by 0.8 or 1.2 (kept in its range,
// on its integer or q grid, and moved by at least one step) and a choice moves to a neighbouring
// one. Fixed parameters are left as they are.
Json explore(const Json& params, const std::vector<Parameter>& parameters,
             double resample_probability, Rng& rng);

}  // namespace fersweep::search
