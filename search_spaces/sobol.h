#pragma once
// Scrambled Sobol' sequences (quasi-random points that fill [0,1)^d far more evenly than
// independent draws) and a sampler that maps them onto the search space.
#include <cstdint>
#include <vector>

#include "search_spaces/sampler.h"

namespace fersweep::search {

class SobolSequence {
 public:
  static constexpr int kMaxDimensions = 64;
  static constexpr int kBits = 32;

  // `scramble`: a random linear matrix scramble plus digital shift drawn from `seed` (as in
  // Owen 1998 / Matousek 1998); the net properties of the sequence are kept.
  SobolSequence(int dimensions, uint64_t seed, bool scramble = true);
  // The next point, in Gray-code order; the first unscrambled point is the origin.
  std::vector<double> next();
  int dimensions() const { return static_cast<int>(directions_.size()); }

 private:
  std::vector<std::vector<uint32_t>> directions_;  // [dimension][bit]
  std::vector<uint32_t> state_;
  uint64_t index_ = 0;
};

class SobolSampler final : public Sampler {
 public:
  SobolSampler(const std::vector<Parameter>& parameters, uint64_t seed);
  std::optional<Json> ask() override;

 private:
  std::vector<Parameter> parameters_;
  SobolSequence sequence_;
};

}  // namespace fersweep::search
