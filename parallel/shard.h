#pragma once
// Which part of a batch (or of the validation set) one rank of a gang takes: contiguous,
// disjoint slices covering all `count` items, sizes differing by at most one, lower ranks
// taking the remainder. Plain arithmetic, shared by training and evaluation.
#include <algorithm>
#include <cstdint>

namespace fersweep::parallel {

struct Shard {
  int64_t begin = 0;
  int64_t count = 0;
};

inline Shard shard_of(int64_t count, int rank, int ranks) {
  const int64_t base = count / ranks;
  const int64_t extra = count % ranks;
  return {rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

}  // namespace fersweep::parallel
