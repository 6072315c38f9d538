#pragma once
// NSGA-II (Deb et al. 2002) for several objectives, run steady-state so asynchronous workers
// never wait for a generation: every finished trial joins the next survival selection, which
// keeps the best `population` of the survivors and the newcomers by non-dominated front and,
// inside the last front, by crowding distance. Each new config is the child of two binary
// tournament winners: simulated binary crossover (SBX) on numeric parameters, in the unit space
// the sampler draws them from (log scale for log_uniform), a fair swap on categorical ones, then
// polynomial mutation or, for categorical ones, a fresh draw. Conditional parameters active in
// the child take a parent's value when that parent has one, else a fresh draw. A child equal to a
// parent has one free parameter moved, so no finished config is trained twice by design. Until
// `population` configs have been asked (and while fewer than two trials have finished), configs are
// random. Constraints are handled by Deb's constrained domination.
#include <cstdint>
#include <vector>

#include "common/pareto.h"
#include "search_spaces/sampler.h"

namespace fersweep::search {

class Nsga2Sampler final : public Sampler {
 public:
  Nsga2Sampler(const std::vector<Parameter>& parameters, const Nsga2Options& options,
               std::vector<bool> maximize, uint64_t seed);
  std::optional<Json> ask() override;
  using Sampler::tell;
  void tell(const Json& params, TrialStatus status, std::span<const double> values,
            int epochs) override;
  // Deb's constrained domination: an infeasible config loses to every feasible one, and to any
  // infeasible one of smaller violation; it competes for a parent's place only while fewer than
  // `population` configs are feasible.
  void tell_infeasible(const Json& params, double violation) override;
  // Results arrive in an order the database does not keep: a replay advances the random stream
  // by one ask and accepts the stored config in its place.
  bool replay(const Json& params) override;

  struct Member {
    Json params;
    ObjectiveVector losses;  // minimised
    int rank = 0;            // non-dominated front among the parents
    double crowding = 0;
    double violation = 0;  // > 0: infeasible, `losses` unused
  };
  // The current parents, after a survival selection over everything told so far.
  const std::vector<Member>& parents();

 private:
  const Member& tournament();
  Json child(const Member& first, const Member& second);

  std::vector<Parameter> parameters_;
  Nsga2Options options_;
  std::vector<bool> maximize_;
  Rng rng_;
  std::vector<Member> parents_;
  std::vector<Member> newcomers_;  // told since the last selection
  uint64_t asked_ = 0;
  size_t finished_ = 0;
};

}  // namespace fersweep::search
