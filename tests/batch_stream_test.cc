// The training batch stream: prefetching on a helper thread changes nothing but timing.
#include <gtest/gtest.h>

#include <cstdint>

#include "data/synthetic_faces.h"
#include "worker/batches.h"

namespace fersweep::worker {
namespace {

data::ImageSet faces(int count) {
  data::SyntheticOptions options;
  options.image_size = 24;
  options.count = count;
  options.seed = 4;
  return data::generate_synthetic_faces(options);
}

const data::Augmentation kEverything{
    .enabled = true, .shift = 3, .rotation = 10, .brightness = 0.2, .erasing = 0.3};

std::vector<Batch> epochs_of(const data::ImageSet& set, Assembly assembly, int epochs,
                             data::Sampling sampling = data::Sampling::kShuffle,
                             const data::Augmentation& augmentation = kEverything) {
  BatchStream stream(set, 32, augmentation, sampling, 77, torch::kCPU, assembly);
  std::vector<Batch> out;
  for (int e = 0; e < epochs; ++e) {
    stream.start_epoch();
    for (int64_t b = 0; b < stream.batches_per_epoch(); ++b) out.push_back(stream.next());
  }
  return out;
}

TEST(BatchStream, PrefetchingGivesTheSameBatchesAsAssemblingInline) {
  const data::ImageSet set = faces(100);  // 3 full batches and one of 4
  const std::vector<Batch> inline_batches = epochs_of(set, Assembly::kInline, 2);
  const std::vector<Batch> prefetched = epochs_of(set, Assembly::kPrefetch, 2);
  ASSERT_EQ(inline_batches.size(), 8u);
  ASSERT_EQ(prefetched.size(), 8u);
  EXPECT_EQ(prefetched[3].images.sizes(), (std::vector<int64_t>{4, 1, 24, 24}));
  for (size_t b = 0; b < prefetched.size(); ++b) {
    EXPECT_TRUE(torch::equal(inline_batches[b].images, prefetched[b].images)) << b;
    EXPECT_TRUE(torch::equal(inline_batches[b].labels, prefetched[b].labels)) << b;
  }
  // Every image appears once per epoch under shuffling.
  const torch::Tensor first_epoch = torch::cat(
      {prefetched[0].labels, prefetched[1].labels, prefetched[2].labels, prefetched[3].labels});
  std::vector<int64_t> expected(set.labels.begin(), set.labels.end());
  EXPECT_TRUE(
      torch::equal(std::get<0>(first_epoch.sort()), std::get<0>(torch::tensor(expected).sort())));
  // Epochs differ: a fresh order and fresh augmentation.
  EXPECT_FALSE(torch::equal(prefetched[0].images, prefetched[4].images));
}

TEST(BatchStream, AnEpochCutShortLeavesTheNextOneWhole) {
  const data::ImageSet set = faces(100);
  BatchStream stream(set, 32, data::Augmentation{}, data::Sampling::kShuffle, 1, torch::kCPU);
  stream.start_epoch();
  stream.next();  // the helper is now assembling batch 1
  stream.start_epoch();
  int64_t seen = 0;
  for (int64_t b = 0; b < stream.batches_per_epoch(); ++b) seen += stream.next().labels.size(0);
  EXPECT_EQ(seen, 100);
  EXPECT_THROW(stream.next(), std::logic_error);
}

// The set resident on the device (here the CPU, which runs the same tensor code a GPU would):
// the same batches, bit for bit, as the host's assembly, shuffled or balanced, with no
// augmentation, flip and shift, or rotation, brightness and erasing as well, including a last,
// smaller batch.
TEST(BatchStream, OnDeviceAssemblyGivesTheHostsBatchesExactly) {
  const data::ImageSet set = faces(100);
  const data::Augmentation flip_and_shift{.enabled = true, .flip = true, .shift = 3};
  const data::Augmentation steep{
      .enabled = true, .shift = 2, .rotation = 40, .brightness = 0.9, .erasing = 0.8};
  for (const data::Augmentation& augmentation :
       {flip_and_shift, data::Augmentation{}, kEverything, steep}) {
    for (const auto sampling : {data::Sampling::kShuffle, data::Sampling::kBalanced}) {
      const auto host = epochs_of(set, Assembly::kInline, 2, sampling, augmentation);
      const auto device = epochs_of(set, Assembly::kOnDevice, 2, sampling, augmentation);
      ASSERT_EQ(device.size(), host.size());
      for (size_t b = 0; b < host.size(); ++b) {
        EXPECT_TRUE(torch::equal(host[b].images, device[b].images))
            << b << ": largest difference "
            << (host[b].images - device[b].images).abs().max().item<float>();
        EXPECT_TRUE(torch::equal(host[b].labels, device[b].labels)) << b;
      }
    }
  }
  // Each augmentation changed the pixels: a test of the transforms, not of copying.
  const auto plain = epochs_of(set, Assembly::kOnDevice, 1, data::Sampling::kShuffle, {});
  for (const data::Augmentation& augmentation : {flip_and_shift, kEverything, steep}) {
    const auto moved =
        epochs_of(set, Assembly::kOnDevice, 1, data::Sampling::kShuffle, augmentation);
    EXPECT_FALSE(torch::equal(plain[0].images, moved[0].images));
  }
}

// Contrast needs each image's mean, which the device sums in another order than the host: the
// batches agree to a float's last bits, not exactly.
TEST(BatchStream, OnDeviceContrastAgreesWithTheHostToRounding) {
  const data::ImageSet set = faces(100);
  data::Augmentation jitter = kEverything;
  jitter.contrast = 0.5;
  const auto host = epochs_of(set, Assembly::kInline, 1, data::Sampling::kShuffle, jitter);
  const auto device = epochs_of(set, Assembly::kOnDevice, 1, data::Sampling::kShuffle, jitter);
  const auto without = epochs_of(set, Assembly::kOnDevice, 1, data::Sampling::kShuffle);
  ASSERT_EQ(device.size(), host.size());
  for (size_t b = 0; b < host.size(); ++b) {
    EXPECT_LE((host[b].images - device[b].images).abs().max().item<float>(), 1e-5f) << b;
    EXPECT_TRUE(torch::equal(host[b].labels, device[b].labels)) << b;
    EXPECT_GT((device[b].images - without[b].images).abs().max().item<float>(), 0.1f) << b;
  }
}

}  // namespace
}  // namespace fersweep::worker
