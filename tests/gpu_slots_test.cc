#include "parallel/gpu_slots.h"

#include <gtest/gtest.h>

#include <vector>

namespace fersweep::parallel {
namespace {

TEST(GpuSlots, RanksSpreadEvenlyOverTheGpus) {
  for (int gpus : {1, 2, 4, 8}) {
    for (int ranks : {1, 3, 8, 16, 32}) {
      std::vector<int> load(static_cast<size_t>(gpus), 0);
      for (int index = 0; index < ranks; ++index) ++load[static_cast<size_t>(gpu_of(index, gpus))];
      const auto [low, high] = std::minmax_element(load.begin(), load.end());
      EXPECT_LE(*high - *low, 1) << ranks << " ranks on " << gpus << " GPUs";
    }
  }
  // A gang of 4 on consecutive ranks of an 8-GPU node takes four different GPUs.
  EXPECT_EQ(gpu_of(4, 8), 4);
  EXPECT_EQ(gpu_of(7, 8), 7);
}

TEST(GpuSlots, MoreRanksThanSlotsIsRefusedWithTheLimit) {
  EXPECT_FALSE(packing_problem(8, 1, 8));
  EXPECT_FALSE(packing_problem(3, 4, 1));
  EXPECT_FALSE(packing_problem(16, 0, 1)) << "no GPU: CPU ranks are not limited by slots";
  EXPECT_EQ(packing_problem(9, 1, 8).value_or(""),
            "9 training ranks on this node share 1 GPU(s), but resources.trials_per_gpu 8 "
            "allows 8: start at most 8 training ranks per node, or raise trials_per_gpu");
  EXPECT_EQ(idle_slots(6, 2, 4), 2);
  EXPECT_EQ(idle_slots(8, 2, 4), 0);
  EXPECT_EQ(idle_slots(4, 0, 4), 0);
}

TEST(GpuSlots, EachRankBudgetsItsShareOfItsGpu) {
  // 11 ranks round robin over 4 GPUs: 3, 3, 3, 2, as gpu_of places them.
  for (int gpu = 0; gpu < 4; ++gpu) {
    int placed = 0;
    for (int index = 0; index < 11; ++index) placed += gpu_of(index, 4) == gpu ? 1 : 0;
    EXPECT_EQ(ranks_on_gpu(11, 4, gpu), placed) << gpu;
  }
  EXPECT_EQ(ranks_on_gpu(5, 0, 0), 0);
  // An H200 (139.8 GiB) packed 8 deep: each trial may plan for 17.475 - 1 GiB.
  EXPECT_NEAR(gpu_memory_share_gb(139.8, 8), 16.475, 1e-12);
  EXPECT_NEAR(gpu_memory_share_gb(80, 1), 79.0, 1e-12);
  EXPECT_EQ(gpu_memory_share_gb(8, 16), 0.0) << "half a GiB each is less than a context";
  EXPECT_NEAR(gpu_memory_share_gb(80, 0), 79.0, 1e-12);
}

}  // namespace
}  // namespace fersweep::parallel
