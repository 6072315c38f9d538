// The gang's building blocks under a real `mpiexec -n 2`: the MPI communicator, the agreement on
// failures, state broadcast and bucketed gradient synchronisation against sums computed locally.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include "comm/mpi_checked.h"
#include "parallel/backends.h"
#include "parallel/gradient_sync.h"

namespace fersweep::parallel {
namespace {

Communicator& gang() {
  static const std::unique_ptr<Communicator> comm = make_mpi_communicator(mpi::Comm::world());
  return *comm;
}

// Three layers, the last one never used by forward(): its gradient stays undefined.
struct NetImpl : torch::nn::Module {
  NetImpl()
      : first(register_module("first", torch::nn::Linear(3, 5))),
        second(register_module("second", torch::nn::Linear(5, 2))),
        unused(register_module("unused", torch::nn::Linear(2, 2))) {}
  torch::Tensor forward(const torch::Tensor& x) { return second(torch::tanh(first(x))); }
  torch::nn::Linear first, second, unused;
};
TORCH_MODULE(Net);

Net make_net() {
  torch::manual_seed(7);  // the same weights on every rank
  return Net();
}

// The input rank `r` trains on: different for every rank.
torch::Tensor input_of(int r) {
  return torch::arange(12, torch::kFloat32).reshape({4, 3}).mul(0.1 * (r + 1)).sin();
}

// What the gang's summed gradients must be: every rank's gradient, computed here in turn.
std::vector<torch::Tensor> summed_gradients_computed_locally() {
  std::vector<torch::Tensor> sums;
  for (int r = 0; r < gang().size(); ++r) {
    Net net = make_net();
    net->forward(input_of(r)).pow(2).sum().backward();
    const auto parameters = net->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      const torch::Tensor g =
          parameters[i].grad().defined() ? parameters[i].grad() : torch::zeros_like(parameters[i]);
      if (static_cast<int>(sums.size()) <= static_cast<int>(i)) {
        sums.push_back(g.clone());
      } else {
        sums[i] += g;
      }
    }
  }
  return sums;
}

class GradientSyncModes : public testing::TestWithParam<GradientSync::Options> {};

TEST_P(GradientSyncModes, LeavesTheGangsSumInEveryGradient) {
  ASSERT_EQ(gang().size(), 2) << "run under mpiexec -n 2";
  const std::vector<torch::Tensor> expected = summed_gradients_computed_locally();
  Net net = make_net();
  GradientSync sync(gang(), net->parameters(), GetParam());
  for (int step = 0; step < 2; ++step) {  // twice: the second step reuses the buckets
    for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
    sync.begin_step();
    net->forward(input_of(gang().rank())).pow(2).sum().backward();
    sync.finish_step();
    const auto parameters = net->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      ASSERT_TRUE(parameters[i].grad().defined()) << i;
      EXPECT_TRUE(torch::allclose(parameters[i].grad(), expected[i], 1e-5, 1e-6))
          << "parameter " << i << " step " << step << "\n"
          << parameters[i].grad() << "\n"
          << expected[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    BucketsAndOverlap, GradientSyncModes,
    testing::Values(GradientSync::Options{.bucket_bytes = 0, .overlap = true},
                    GradientSync::Options{.bucket_bytes = 64, .overlap = true},
                    GradientSync::Options{.bucket_bytes = 25 << 20, .overlap = true},
                    GradientSync::Options{.bucket_bytes = 64, .overlap = false}));

TEST(GradientSync, BucketsHoldAtMostTheirBytesAndOneParameterAtLeast) {
  Net net = make_net();
  // first: 15 + 5 floats, second: 10 + 2, unused: 4 + 2: six tensors, 38 floats.
  EXPECT_EQ(GradientSync(gang(), net->parameters(), {.bucket_bytes = 0}).bucket_count(), 6u);
  EXPECT_EQ(GradientSync(gang(), net->parameters(), {.bucket_bytes = 1 << 20}).bucket_count(), 1u);
  // 48 bytes, last layer first: {unused.bias, unused.weight, second.bias} = 32, {second.weight}
  // = 40, {first.bias} = 20, {first.weight} = 60 (alone, though larger than a bucket).
  EXPECT_EQ(GradientSync(gang(), net->parameters(), {.bucket_bytes = 48}).bucket_count(), 4u);
}

// A rank whose step failed before backward still finishes the step: its buckets go out as zeros,
// so the healthy rank's collectives complete and it gets its own gradients back.
TEST(GradientSync, ARankWithoutBackwardKeepsTheCollectivesMatched) {
  Net net = make_net();
  GradientSync sync(gang(), net->parameters(), {.bucket_bytes = 64});
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
  sync.begin_step();
  if (gang().rank() == 0) net->forward(input_of(0)).pow(2).sum().backward();
  sync.finish_step();
  Net reference = make_net();
  reference->forward(input_of(0)).pow(2).sum().backward();
  const auto got = net->parameters(), want = reference->parameters();
  for (size_t i = 0; i < 4; ++i) {  // first and second; unused has no gradient anywhere
    EXPECT_TRUE(torch::allclose(got[i].grad(), want[i].grad(), 1e-5, 1e-6)) << i;
  }
  EXPECT_EQ(got[4].grad().abs().sum().item<float>(), 0.0f);
}

TEST(Agree, OneRanksFailureReachesEveryRank) {
  EXPECT_NO_THROW(agree(gang(), std::nullopt));
  const std::optional<std::string> mine =
      gang().rank() == 1 ? std::optional<std::string>("out of memory") : std::nullopt;
  try {
    agree(gang(), mine);
    ADD_FAILURE() << "agree() returned although rank 1 failed";
  } catch (const CommunicatorError& e) {
    EXPECT_STREQ(e.what(), "gang rank 1: out of memory");
  }
  // The lowest failed rank speaks for the gang; the leader's own words are not prefixed.
  try {
    agree(gang(), "rank " + std::to_string(gang().rank()) + " failed");
    ADD_FAILURE() << "agree() returned although every rank failed";
  } catch (const CommunicatorError& e) {
    EXPECT_STREQ(e.what(), "rank 0 failed");
  }
}

TEST(BroadcastState, EveryRankEndsWithTheLeadersWeightsAndBuffers) {
  torch::manual_seed(100 + gang().rank());  // different weights on each rank
  torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  net->forward(torch::randn({8, 3}));  // moves the running statistics, differently per rank
  std::vector<double> checksum{0.0};
  for (const auto& t : net->parameters()) checksum[0] += t.sum().item<double>();
  for (const auto& t : net->buffers()) checksum[0] += t.to(torch::kDouble).sum().item<double>();
  broadcast_state(gang(), *net, 0);
  std::vector<double> after{0.0};
  for (const auto& t : net->parameters()) after[0] += t.sum().item<double>();
  for (const auto& t : net->buffers()) after[0] += t.to(torch::kDouble).sum().item<double>();
  std::vector<double> leaders = gang().rank() == 0 ? checksum : std::vector<double>{0.0};
  gang().sum(leaders);  // rank 0's checksum, everywhere
  std::vector<double> differs{gang().rank() == 0 ? 0.0 : std::abs(checksum[0] - leaders[0])};
  gang().sum(differs);
  EXPECT_GT(differs[0], 1e-3) << "the ranks started with the same weights: nothing tested";
  EXPECT_NEAR(after[0], leaders[0], 1e-9);
}

// Workers store convolution weights channels-last (models::use_channels_last): dense, but not
// what the backends call contiguous. They must still arrive, and keep their layout.
TEST(BroadcastState, ChannelsLastWeightsArriveAndKeepTheirLayout) {
  torch::manual_seed(200 + gang().rank());
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(2, 3, 3));
  {
    torch::NoGradGuard no_grad;
    conv->weight.set_data(
        torch::empty_like(conv->weight, torch::MemoryFormat::ChannelsLast).copy_(conv->weight));
  }
  ASSERT_FALSE(conv->weight.is_contiguous());
  torch::Tensor leaders = conv->weight.contiguous().clone();
  gang().broadcast(leaders, 0);
  std::vector<double> differed{torch::equal(conv->weight, leaders) ? 0.0 : 1.0};
  gang().sum(differed);
  ASSERT_GT(differed[0], 0) << "the ranks started with the same weights: nothing tested";
  broadcast_state(gang(), *conv, 0);
  EXPECT_TRUE(torch::equal(conv->weight, leaders));
  EXPECT_EQ(conv->weight.suggest_memory_format(), torch::MemoryFormat::ChannelsLast);
}

TEST(MpiCommunicator, SumsTensorsAndHostValues) {
  torch::Tensor t = torch::full({5}, static_cast<float>(gang().rank() + 1));
  gang().start_sum(t)->wait();
  EXPECT_TRUE(torch::equal(t, torch::full({5}, 3.0f)));
  std::vector<double> values{1.5, static_cast<double>(gang().rank())};
  gang().sum(values);
  EXPECT_EQ(values, (std::vector<double>{3.0, 1.0}));
  std::string text = gang().rank() == 1 ? "from one" : "";
  gang().broadcast(text, 1);
  EXPECT_EQ(text, "from one");
  EXPECT_THROW(gang().start_sum(torch::zeros({2}, torch::kInt64)), CommunicatorError);
}

}  // namespace
}  // namespace fersweep::parallel

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  fersweep::mpi::Session session(argc, argv);
  return RUN_ALL_TESTS();
}
