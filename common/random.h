#pragma once
// Portable random numbers. std::mt19937_64's output sequence is fixed by the standard, but the
// std:: distributions are not, so configs would differ between standard libraries; these helpers
// turn raw engine output into values the same way everywhere.
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>

namespace fersweep {

using Rng = std::mt19937_64;

// SplitMix64 finaliser: derives well-spread child seeds (per trial, per image) from one seed.
inline uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

inline double uniform(Rng& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}

// Uniform integer in [0, n) without modulo bias (rejection on the top range).
inline uint64_t uniform_index(Rng& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Fisher-Yates, for the same reason: std::shuffle's sequence differs between standard libraries.
template <typename Container>
void shuffle(Container& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[uniform_index(rng, i)]);
  }
}

// Standard normal by Box-Muller (one value per call; simplicity beats the wasted half here).
inline double normal(Rng& rng, double mean = 0.0, double stddev = 1.0) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace fersweep
