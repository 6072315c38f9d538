#include "search_spaces/sobol.h"

#include <cstdint>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "search_spaces/space.h"

namespace fersweep::search {
namespace {

struct Primitive {
  int degree;
  uint32_t coefficients;          // a: the polynomial's inner coefficients as bits
  std::vector<uint32_t> initial;  // m_1 .. m_degree
};

// Joe & Kuo's direction numbers (new-joe-kuo-6.21201, "Constructing Sobol sequences with better
// two-dimensional projections", SIAM J. Sci. Comput. 30, 2008) for dimensions 2..64; dimension 1
// is the van der Corput sequence. tests/sampler_test.cc checks the points against scipy.
const std::vector<Primitive>& primitives() {
  static const std::vector<Primitive> table = {
      {1, 0, {1}},
      {2, 1, {1, 3}},
      {3, 1, {1, 3, 1}},
      {3, 2, {1, 1, 1}},
      {4, 1, {1, 1, 3, 3}},
      {4, 4, {1, 3, 5, 13}},
      {5, 2, {1, 1, 5, 5, 17}},
      {5, 4, {1, 1, 5, 5, 5}},
      {5, 7, {1, 1, 7, 11, 19}},
      {5, 11, {1, 1, 5, 1, 1}},
      {5, 13, {1, 1, 1, 3, 11}},
      {5, 14, {1, 3, 5, 5, 31}},
      {6, 1, {1, 3, 3, 9, 7, 49}},
      {6, 13, {1, 1, 1, 15, 21, 21}},
      {6, 16, {1, 3, 1, 13, 27, 49}},
      {6, 19, {1, 1, 1, 15, 7, 5}},
      {6, 22, {1, 3, 1, 15, 13, 25}},
      {6, 25, {1, 1, 5, 5, 19, 61}},
      {7, 1, {1, 3, 7, 11, 23, 15, 103}},
      {7, 4, {1, 3, 7, 13, 13, 15, 69}},
      {7, 7, {1, 1, 3, 13, 7, 35, 63}},
      {7, 8, {1, 3, 5, 9, 1, 25, 53}},
      {7, 14, {1, 3, 1, 13, 9, 35, 107}},
      {7, 19, {1, 3, 1, 5, 27, 61, 31}},
      {7, 21, {1, 1, 5, 11, 19, 41, 61}},
      {7, 28, {1, 3, 5, 3, 3, 13, 69}},
      {7, 31, {1, 1, 7, 13, 1, 19, 1}},
      {7, 32, {1, 3, 7, 5, 13, 19, 59}},
      {7, 37, {1, 1, 3, 9, 25, 29, 41}},
      {7, 41, {1, 3, 5, 13, 23, 1, 55}},
      {7, 42, {1, 3, 7, 3, 13, 59, 17}},
      {7, 50, {1, 3, 1, 3, 5, 53, 69}},
      {7, 55, {1, 1, 5, 5, 23, 33, 13}},
      {7, 56, {1, 1, 7, 7, 1, 61, 123}},
      {7, 59, {1, 1, 7, 9, 13, 61, 49}},
      {7, 62, {1, 3, 3, 5, 3, 55, 33}},
      {8, 14, {1, 3, 1, 15, 31, 13, 49, 245}},
      {8, 21, {1, 3, 5, 15, 31, 59, 63, 97}},
      {8, 22, {1, 3, 1, 11, 11, 11, 77, 249}},
      {8, 38, {1, 3, 1, 11, 27, 43, 71, 9}},
      {8, 47, {1, 1, 7, 15, 21, 11, 81, 45}},
      {8, 49, {1, 3, 7, 3, 25, 31, 65, 79}},
      {8, 50, {1, 3, 1, 1, 19, 11, 3, 205}},
      {8, 52, {1, 1, 5, 9, 19, 21, 29, 157}},
      {8, 56, {1, 3, 7, 11, 1, 33, 89, 185}},
      {8, 67, {1, 3, 3, 3, 15, 9, 79, 71}},
      {8, 70, {1, 3, 7, 11, 15, 39, 119, 27}},
      {8, 84, {1, 1, 3, 1, 11, 31, 97, 225}},
      {8, 97, {1, 1, 1, 3, 23, 43, 57, 177}},
      {8, 103, {1, 3, 7, 7, 17, 17, 37, 71}},
      {8, 115, {1, 3, 1, 5, 27, 63, 123, 213}},
      {8, 122, {1, 1, 3, 5, 11, 43, 53, 133}},
      {9, 8, {1, 3, 5, 5, 29, 17, 47, 173, 479}},
      {9, 13, {1, 3, 3, 11, 3, 1, 109, 9, 69}},
      {9, 16, {1, 1, 1, 5, 17, 39, 23, 5, 343}},
      {9, 22, {1, 3, 1, 5, 25, 15, 31, 103, 499}},
      {9, 25, {1, 1, 1, 11, 11, 17, 63, 105, 183}},
      {9, 44, {1, 1, 5, 11, 9, 29, 97, 231, 363}},
      {9, 47, {1, 1, 5, 15, 19, 45, 41, 7, 383}},
      {9, 52, {1, 3, 7, 7, 31, 19, 83, 137, 221}},
      {9, 55, {1, 1, 1, 3, 23, 15, 111, 223, 83}},
      {9, 59, {1, 1, 5, 13, 31, 15, 55, 25, 161}},
      {9, 62, {1, 1, 3, 13, 25, 47, 39, 87, 257}},
  };
  return table;
}

}  // namespace

SobolSequence::SobolSequence(int dimensions, uint64_t seed, bool scramble) {
  if (dimensions < 1 || dimensions > kMaxDimensions) {
    throw InputError(
        fmt::format("sobol: supports 1 to {} parameters, got {}", kMaxDimensions, dimensions));
  }
  directions_.assign(dimensions, std::vector<uint32_t>(kBits));
  for (int bit = 0; bit < kBits; ++bit) directions_[0][bit] = 1u << (kBits - 1 - bit);
  for (int d = 1; d < dimensions; ++d) {
    const Primitive& p = primitives()[d - 1];
    auto& v = directions_[d];
    for (int i = 0; i < p.degree && i < kBits; ++i) v[i] = p.initial[i] << (kBits - 1 - i);
    for (int i = p.degree; i < kBits; ++i) {
      v[i] = v[i - p.degree] ^ (v[i - p.degree] >> p.degree);
      for (int k = 1; k < p.degree; ++k) {
        if ((p.coefficients >> (p.degree - 1 - k)) & 1u) v[i] ^= v[i - k];
      }
    }
  }
  state_.assign(dimensions, 0);
  if (!scramble) return;
  Rng rng(mix_seed(seed, 0x50B01));
  for (int d = 0; d < dimensions; ++d) {
    // Left-multiply the generator matrix by a random lower-triangular matrix with a unit
    // diagonal: column `bit` of the generator is directions_[d][bit] (MSB = row 0).
    std::vector<uint32_t> lower(kBits);  // lower[row]: bits of that row, MSB = column 0
    for (int row = 0; row < kBits; ++row) {
      const uint32_t random_bits = static_cast<uint32_t>(rng());
      const uint32_t below_diagonal = row == 0 ? 0 : random_bits & ~((1u << (kBits - row)) - 1);
      lower[row] = below_diagonal | (1u << (kBits - 1 - row));
    }
    for (int bit = 0; bit < kBits; ++bit) {
      uint32_t column = 0;
      for (int row = 0; row < kBits; ++row) {
        const uint32_t dot =
            static_cast<uint32_t>(__builtin_popcount(lower[row] & directions_[d][bit]) & 1);
        column |= dot << (kBits - 1 - row);
      }
      directions_[d][bit] = column;
    }
    state_[d] = static_cast<uint32_t>(rng());  // digital shift
  }
}

std::vector<double> SobolSequence::next() {
  std::vector<double> point(state_.size());
  for (size_t d = 0; d < state_.size(); ++d) point[d] = state_[d] * 0x1p-32;
  // Gray-code update: flip the direction number of the lowest zero bit of the index.
  const int bit = __builtin_ctzll(~index_);
  if (bit >= kBits) throw std::runtime_error("sobol: more than 2^32 points requested");
  for (size_t d = 0; d < state_.size(); ++d) state_[d] ^= directions_[d][bit];
  ++index_;
  return point;
}

SobolSampler::SobolSampler(const std::vector<Parameter>& parameters, uint64_t seed)
    : parameters_(parameters),
      sequence_(std::max<int>(1, static_cast<int>(parameters.size())), seed) {}

std::optional<Json> SobolSampler::ask() {
  return config_from_unit(parameters_, sequence_.next());
}

}  // namespace fersweep::search
