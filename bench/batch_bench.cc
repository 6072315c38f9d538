// Data-path benchmark: batch assembly throughput per augmentation, against the per-sample tensor
// path it replaced, and epoch time of a real training loop with and without the prefetch thread.
//   build/bench/batch_bench [--threads N]
// Prints Markdown tables for docs/BENCHMARKS.md.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/batch_assembly.h"
#include "data/synthetic_faces.h"
#include "models/model.h"
#include "worker/batches.h"

namespace {

using namespace fersweep;
using Clock = std::chrono::steady_clock;

constexpr int64_t kBatch = 64;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The path before data/batch_assembly: gather from a uint8 tensor, normalise, then pad, crop and
// flip sample by sample with tensor ops.
double tensor_path_images_per_second(const data::ImageSet& set) {
  worker::TensorDataset tensors = worker::to_tensors(set);
  Rng rng(1);
  const auto start = Clock::now();
  int64_t images = 0;
  while (seconds_since(start) < 2.0) {
    const std::vector<int64_t> order = data::epoch_order(set, data::Sampling::kShuffle, rng);
    for (size_t b = 0; b + kBatch <= order.size(); b += kBatch) {
      const torch::Tensor index =
          torch::tensor(std::vector<int64_t>(order.begin() + b, order.begin() + b + kBatch));
      const torch::Tensor batch = worker::normalise(tensors.images.index_select(0, index));
      namespace F = torch::nn::functional;
      const torch::Tensor padded =
          F::pad(batch, F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate));
      torch::Tensor out = torch::empty_like(batch);
      for (int64_t i = 0; i < kBatch; ++i) {
        const auto dx = static_cast<int64_t>(uniform_index(rng, 5));
        const auto dy = static_cast<int64_t>(uniform_index(rng, 5));
        torch::Tensor crop = padded[i].narrow(1, dy, set.image_size).narrow(2, dx, set.image_size);
        if (rng() & 1) crop = crop.flip({2});
        out[i].copy_(crop);
      }
      images += kBatch;
    }
  }
  return static_cast<double>(images) / seconds_since(start);
}

double assembly_images_per_second(const data::ImageSet& set, const data::Augmentation& a) {
  Rng rng(1);
  std::vector<float> out(kBatch * set.pixels_per_image());
  std::vector<int64_t> labels(kBatch);
  const auto start = Clock::now();
  int64_t images = 0;
  while (seconds_since(start) < 2.0) {
    const std::vector<int64_t> order = data::epoch_order(set, data::Sampling::kShuffle, rng);
    for (size_t b = 0; b + kBatch <= order.size(); b += kBatch) {
      data::assemble_batch(set, std::span<const int64_t>(order).subspan(b, kBatch), a, rng,
                           out.data(), labels.data());
      images += kBatch;
    }
  }
  return static_cast<double>(images) / seconds_since(start);
}

// Seconds per epoch of a vgg_custom with these block widths on `set`, best of five epochs.
double epoch_seconds(const data::ImageSet& set, const std::vector<int>& filters,
                     const data::Augmentation& a, bool prefetch) {
  torch::manual_seed(0);
  TrialConfig config;
  config.filters = filters;
  config.convs_per_block = 1;  // the default sweep's family
  config.dense = {64};
  const models::Classifier model =
      models::make_model(models::model_options(config, 7, set.image_size));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  worker::BatchStream stream(set, kBatch, a, data::Sampling::kShuffle, 5, torch::kCPU,
                             prefetch ? worker::Assembly::kPrefetch : worker::Assembly::kInline);
  double best = 1e30;
  for (int epoch = 0; epoch < 5; ++epoch) {
    const auto start = Clock::now();
    model->train();
    stream.start_epoch();
    for (int64_t b = 0; b < stream.batches_per_epoch(); ++b) {
      const worker::Batch batch = stream.next();
      optimizer.zero_grad();
      torch::nn::functional::cross_entropy(model->forward(batch.images), batch.labels).backward();
      optimizer.step();
    }
    best = std::min(best, seconds_since(start));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::stoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  data::SyntheticOptions options;
  options.count = 4000;
  const data::ImageSet set = data::generate_synthetic_faces(options);

  const data::Augmentation off{};
  const data::Augmentation flip_shift{.enabled = true};
  data::Augmentation rotate = flip_shift;
  rotate.rotation = 15;
  data::Augmentation colour = flip_shift;
  colour.brightness = colour.contrast = 0.3;
  data::Augmentation erase = flip_shift;
  erase.erasing = 0.5;
  data::Augmentation all = rotate;
  all.brightness = all.contrast = 0.3;
  all.erasing = 0.5;

  fmt::print("Batch assembly, 48x48, batch {}, one thread (images/s):\n\n", kBatch);
  fmt::print("| path | images/s |\n|---|---|\n");
  fmt::print("| per-sample tensor ops, flip + shift (before) | {:.0f} |\n",
             tensor_path_images_per_second(set));
  const std::vector<std::pair<const char*, data::Augmentation>> cases = {
      {"none", off},
      {"flip + shift", flip_shift},
      {"+ rotation 15", rotate},
      {"+ brightness/contrast 0.3", colour},
      {"+ erasing 0.5", erase},
      {"all of them", all}};
  for (const auto& [name, a] : cases) {
    fmt::print("| batch_assembly: {} | {:.0f} |\n", name, assembly_images_per_second(set, a));
  }
  std::fflush(stdout);

  fmt::print(
      "\nEpoch of 4,000 images, vgg_custom with one conv per block, dense [64], {} LibTorch "
      "thread(s) (seconds, best of 5):\n\n",
      threads);
  fmt::print("| filters | augmentation | inline | prefetch thread |\n|---|---|---|---|\n");
  for (const std::vector<int>& filters :
       {std::vector<int>{8, 16, 32, 64}, std::vector<int>{4, 8}}) {
    for (const auto& [name, a] : {cases[1], cases[5]}) {
      fmt::print("| [{}] | {} | {:.2f} | {:.2f} |\n", fmt::join(filters, ","), name,
                 epoch_seconds(set, filters, a, false), epoch_seconds(set, filters, a, true));
      std::fflush(stdout);
    }
  }
  return 0;
}
