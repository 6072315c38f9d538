// The machine's attainable fp32 rate as LibTorch reaches it (issue 24): a large matrix product
// through the BLAS that LibTorch's dense layers call (`libblas.so.3`, whichever the system's
// alternative or LD_LIBRARY_PATH picks), and convolutions through oneDNN, which runs every
// convolution of a channels-last network on the CPU. Each is timed on the given threads, best of
// five after a warm-up, and printed as JSON for bench/training_efficiency.py.
//
//   build/bench/gemm_rate [threads] [matrix side]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace {

double best_seconds(const std::function<void()>& run) {
  run();  // warm-up: oneDNN picks and caches its kernel, the BLAS its buffers
  double best = 1e30;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// A convolution's rate in GFLOP/s: 2 x multiply-accumulates per second, channels-last.
double conv_rate(int64_t batch, int64_t channels, int64_t side, int64_t kernel) {
  const auto input =
      torch::randn({batch, channels, side, side}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto weight = torch::randn({channels, channels, kernel, kernel})
                          .contiguous(torch::MemoryFormat::ChannelsLast);
  const double flops = 2.0 * batch * side * side * channels * channels * kernel * kernel;
  torch::NoGradGuard no_grad;
  const double seconds =
      best_seconds([&] { torch::conv2d(input, weight, {}, 1, kernel / 2).sum().item<float>(); });
  return flops / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 1;
  const int64_t side = argc > 2 ? std::stoll(argv[2]) : 2048;
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  const auto a = torch::randn({side, side});
  const auto b = torch::randn({side, side});
  const double gemm_seconds = best_seconds([&] { torch::mm(a, b).sum().item<float>(); });
  const double gemm = 2.0 * side * side * side / gemm_seconds / 1e9;
  // The shapes of a VGG block at 48 px (3x3, 128 channels, 24x24) and of a 1x1 bottleneck.
  const double conv3 = conv_rate(64, 128, 24, 3);
  const double conv1 = conv_rate(64, 256, 16, 1);
  std::printf(
      "{\"threads\": %d, \"sgemm_side\": %lld, \"sgemm_gflops\": %.2f, "
      "\"conv3x3_gflops\": %.2f, \"conv1x1_gflops\": %.2f}\n",
      threads, static_cast<long long>(side), gemm, conv3, conv1);
  return 0;
}
