#include "comm/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "common/error.h"

namespace fersweep {
namespace {

TEST(Placement, RanksSpreadEvenlyOverTheGpus) {
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

TEST(Placement, MoreRanksThanSlotsIsRefusedWithTheLimit) {
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

TEST(Placement, EachRankBudgetsItsShareOfItsGpu) {
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

// A node as the tests imagine it: `gpus` GPUs of 139.8 GiB (an H200), 64 GiB of memory, 16 threads.
MachineFacts machine(int gpus) {
  MachineFacts facts;
  facts.gpus = gpus;
  facts.memory_gb = 64;
  facts.hardware_threads = 16;
  facts.gpu_memory_gb = [](int) { return std::optional<double>(139.8); };
  return facts;
}

TEST(Placement, CpuRanksShareTheNodesMemoryAndThreads) {
  const NodePlacement node{4, 2};
  for (const char* request : {"auto", "cpu"}) {
    const RankPlacement p = place_rank(parse_device_request(request), node, machine(0));
    EXPECT_EQ(p.device, Device::cpu()) << request;
    EXPECT_EQ(p.gpus_in_use, 0);
    EXPECT_DOUBLE_EQ(p.memory_gb, 16.0);
  }
  // --device cpu on a GPU node keeps the rank off the GPUs.
  EXPECT_EQ(place_rank(parse_device_request("cpu"), node, machine(8)).device, Device::cpu());
  EXPECT_EQ(default_threads(node, machine(0)), 4);
  EXPECT_EQ(default_threads({32, 0}, machine(0)), 1);
}

TEST(Placement, GpuRanksGoRoundRobinAndBudgetTheirShareOfTheirGpu) {
  // 5 training ranks on a 2-GPU node: GPU 0 holds ranks 0, 2, 4; GPU 1 holds 1, 3.
  std::map<int, int> on_gpu;
  for (int index = 0; index < 5; ++index) {
    const RankPlacement p = place_rank(parse_device_request("auto"), {5, index}, machine(2));
    ASSERT_TRUE(p.device.is_cuda());
    EXPECT_EQ(p.device.index, index % 2);
    EXPECT_EQ(p.gpus_in_use, 2);
    ++on_gpu[p.device.index];
    EXPECT_NEAR(p.memory_gb, 139.8 / (p.device.index == 0 ? 3 : 2) - 1, 1e-9) << index;
  }
  EXPECT_EQ(on_gpu[0], 3);
  // cuda:1 takes every training rank of the node onto that one GPU.
  const RankPlacement named = place_rank(parse_device_request("cuda:1"), {4, 3}, machine(2));
  EXPECT_EQ(named.device, Device::cuda(1));
  EXPECT_EQ(named.gpus_in_use, 1);
  EXPECT_NEAR(named.memory_gb, 139.8 / 4 - 1, 1e-9);
  // Where the runtime cannot say how large the GPU is, nothing is checked.
  MachineFacts unknown = machine(1);
  unknown.gpu_memory_gb = nullptr;
  EXPECT_EQ(place_rank(parse_device_request("cuda"), {1, 0}, unknown).memory_gb, 0.0);
  EXPECT_EQ(Device::cuda(3).to_string(), "cuda:3");
  EXPECT_EQ(Device::cpu().to_string(), "cpu");
}

TEST(Placement, RequestsTheMachineCannotMeetAreInputErrorsNamingDevice) {
  const std::vector<std::pair<std::string, int>> impossible = {
      {"cuda", 0}, {"cuda:0", 0}, {"cuda:2", 2}, {"cuda:99", 8}};
  for (const auto& [request, gpus] : impossible) {
    try {
      place_rank(parse_device_request(request), {1, 0}, machine(gpus));
      ADD_FAILURE() << request << " on " << gpus << " GPUs was accepted";
    } catch (const InputError& e) {
      EXPECT_TRUE(std::string(e.what()).starts_with("--device " + request + ": ")) << e.what();
    }
  }
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CPU", ""}) {
    EXPECT_THROW(parse_device_request(bad), InputError) << bad;
  }
}

}  // namespace
}  // namespace fersweep
