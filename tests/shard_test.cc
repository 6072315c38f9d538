#include "parallel/shard.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace fersweep::parallel {
namespace {

// Every item in exactly one shard, in order, sizes differing by at most one.
TEST(Shard, SlicesCoverEveryItemOnceInOrder) {
  for (int64_t count : {0, 1, 2, 3, 7, 51, 64, 83}) {
    for (int ranks : {1, 2, 3, 4, 8}) {
      int64_t next = 0, smallest = count, largest = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        const Shard shard = shard_of(count, rank, ranks);
        EXPECT_EQ(shard.begin, next) << count << " / " << ranks << " rank " << rank;
        next += shard.count;
        smallest = std::min(smallest, shard.count);
        largest = std::max(largest, shard.count);
      }
      EXPECT_EQ(next, count) << count << " / " << ranks;
      EXPECT_LE(largest - smallest, 1) << count << " / " << ranks;
    }
  }
  EXPECT_EQ(shard_of(3, 0, 2).count, 2);  // the lower rank takes the remainder
  EXPECT_EQ(shard_of(3, 1, 2).count, 1);
}

}  // namespace
}  // namespace fersweep::parallel
