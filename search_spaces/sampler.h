#pragma once
// Samplers turn a search space into a sequence of configs (JSON objects: parameter -> value).
// The sequence is a pure function of the spec (and its seed): same spec, same configs.
#include <cstdint>
#include <memory>
#include <optional>

#include "common/random.h"
#include "search_spaces/spec.h"

namespace fersweep::search {

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The next config, or nothing when the space is exhausted.
  virtual std::optional<Json> ask() = 0;
  // Feedback for model-based samplers; the walking skeleton's samplers ignore it.
  virtual void tell(const Json& params, std::optional<double> objective) {}
};

// Cartesian product of every parameter's values, the last parameter (by name) varying fastest.
class GridSampler final : public Sampler {
 public:
  explicit GridSampler(const std::vector<Parameter>& parameters);
  std::optional<Json> ask() override;
  uint64_t size() const { return size_; }

 private:
  std::vector<Parameter> parameters_;
  uint64_t size_ = 1;
  uint64_t next_ = 0;
};

// Independent draws from each parameter's distribution.
class RandomSampler final : public Sampler {
 public:
  RandomSampler(const std::vector<Parameter>& parameters, uint64_t seed);
  std::optional<Json> ask() override;

 private:
  std::vector<Parameter> parameters_;
  Rng rng_;
};

Json sample_parameter(const Parameter& parameter, Rng& rng);

std::unique_ptr<Sampler> make_sampler(const SweepSpec& spec);

// The number of trials a sweep will run: the budget, capped by the grid size for grid search.
uint64_t planned_trials(const SweepSpec& spec);

}  // namespace fersweep::search
