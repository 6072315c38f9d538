// The training batch stream: prefetching on a helper thread changes nothing but timing.
#include <gtest/gtest.h>

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

std::vector<Batch> epochs_of(const data::ImageSet& set, bool prefetch, int epochs,
                             data::Sampling sampling = data::Sampling::kShuffle) {
  const data::Augmentation augmentation{
      .enabled = true, .shift = 3, .rotation = 10, .brightness = 0.2, .erasing = 0.3};
  BatchStream stream(set, 32, augmentation, sampling, 77, torch::kCPU, prefetch);
  std::vector<Batch> out;
  for (int e = 0; e < epochs; ++e) {
    stream.start_epoch();
    for (int64_t b = 0; b < stream.batches_per_epoch(); ++b) out.push_back(stream.next());
  }
  return out;
}

TEST(BatchStream, PrefetchingGivesTheSameBatchesAsAssemblingInline) {
  const data::ImageSet set = faces(100);  // 3 full batches and one of 4
  const std::vector<Batch> inline_batches = epochs_of(set, false, 2);
  const std::vector<Batch> prefetched = epochs_of(set, true, 2);
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

}  // namespace
}  // namespace fersweep::worker
