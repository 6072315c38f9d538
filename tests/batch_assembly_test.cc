// Batch assembly: epoch orders, class weights and every augmentation, checked against exact
// transforms and independent reference computations.
#include "data/batch_assembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>

namespace fersweep::data {
namespace {

// n images of size x size whose pixels are all different (a ramp offset per image), labels
// given per image.
ImageSet ramp_set(int size, const std::vector<int>& labels, int classes) {
  ImageSet set;
  set.image_size = size;
  set.labels = labels;
  for (int c = 0; c < classes; ++c) set.class_names.push_back("C" + std::to_string(c));
  for (size_t i = 0; i < labels.size(); ++i) {
    for (int p = 0; p < size * size; ++p)
      set.pixels.push_back(static_cast<uint8_t>((p * 3 + i * 17) % 256));
  }
  return set;
}

std::vector<int64_t> all_indices(const ImageSet& set) {
  std::vector<int64_t> indices(set.size());
  std::iota(indices.begin(), indices.end(), 0);
  return indices;
}

TEST(BatchAssembly, WithoutAugmentationImagesAreOnlyNormalised) {
  const ImageSet set = ramp_set(6, {2, 0, 1}, 3);
  const std::vector<int64_t> indices = {2, 0};
  std::vector<float> out(2 * 36);
  std::vector<int64_t> labels(2);
  Rng rng(1);
  const Rng before = rng;
  assemble_batch(set, indices, Augmentation{}, rng, out.data(), labels.data());
  EXPECT_EQ(labels, (std::vector<int64_t>{1, 2}));
  for (int p = 0; p < 36; ++p) {
    EXPECT_EQ(out[p], (set.image(2)[p] - 127.5f) / 64.0f);
    EXPECT_EQ(out[36 + p], (set.image(0)[p] - 127.5f) / 64.0f);
  }
  EXPECT_EQ(rng, before) << "no augmentation draws nothing";
}

// The flip-and-shift path equals padding with replicated edges, cropping at a random offset and
// mirroring the crop, with the offsets and the flip bit drawn in that order.
TEST(BatchAssembly, FlipAndShiftEqualPadCropMirror) {
  constexpr int kSize = 7, kShift = 2, kPadded = kSize + 2 * kShift;
  const ImageSet set = ramp_set(kSize, {0, 1, 0, 1, 0, 1, 0, 1}, 2);
  const std::vector<int64_t> indices = all_indices(set);
  std::vector<float> out(set.size() * kSize * kSize);
  std::vector<int64_t> labels(set.size());
  Augmentation augmentation{.enabled = true, .flip = true, .shift = kShift};
  Rng rng(42), reference_rng(42);
  assemble_batch(set, indices, augmentation, rng, out.data(), labels.data());
  int flipped = 0, moved = 0;
  for (size_t i = 0; i < set.size(); ++i) {
    std::vector<uint8_t> padded(kPadded * kPadded);
    for (int y = 0; y < kPadded; ++y) {
      for (int x = 0; x < kPadded; ++x) {
        padded[y * kPadded + x] = set.image(
            i)[std::clamp(y - kShift, 0, kSize - 1) * kSize + std::clamp(x - kShift, 0, kSize - 1)];
      }
    }
    const auto left = static_cast<int>(uniform_index(reference_rng, 2 * kShift + 1));
    const auto top = static_cast<int>(uniform_index(reference_rng, 2 * kShift + 1));
    const bool mirror = reference_rng() & 1;
    flipped += mirror;
    moved += left != kShift || top != kShift;
    for (int y = 0; y < kSize; ++y) {
      for (int x = 0; x < kSize; ++x) {
        const int cx = mirror ? kSize - 1 - x : x;
        const float expected = (padded[(top + y) * kPadded + left + cx] - 127.5f) / 64.0f;
        ASSERT_EQ(out[i * kSize * kSize + y * kSize + x], expected) << i << " " << y << " " << x;
      }
    }
  }
  EXPECT_GT(flipped, 0);
  EXPECT_GT(moved, 0);
}

TEST(BatchAssembly, QuarterTurnRotationMovesPixelsExactly) {
  constexpr int kSize = 5;
  const ImageSet set = ramp_set(kSize, {0}, 1);
  std::vector<float> out(kSize * kSize);
  apply_transform(set.image(0), kSize, SampleTransform{.angle = std::acos(-1.0) / 2}, out.data());
  // Output (y, x) samples the source at (y', x') = (x, size - 1 - y) for a quarter turn.
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      EXPECT_NEAR(out[y * kSize + x], set.image(0)[x * kSize + (kSize - 1 - y)], 1e-4);
    }
  }
  // A tiny angle takes the bilinear path; it must agree with the exact shift-and-flip path.
  const SampleTransform exact{.dx = 1, .dy = -2, .flip = true};
  SampleTransform bilinear = exact;
  bilinear.angle = 1e-12;
  std::vector<float> copied(kSize * kSize), interpolated(kSize * kSize);
  apply_transform(set.image(0), kSize, exact, copied.data());
  apply_transform(set.image(0), kSize, bilinear, interpolated.data());
  for (int p = 0; p < kSize * kSize; ++p) EXPECT_NEAR(copied[p], interpolated[p], 1e-6) << p;
}

TEST(BatchAssembly, BrightnessAndContrastFollowColorJitter) {
  const ImageSet set = ramp_set(4, {0}, 1);
  std::vector<float> out(16);
  apply_transform(set.image(0), 4, SampleTransform{.brightness = 0.5}, out.data());
  for (int p = 0; p < 16; ++p) EXPECT_FLOAT_EQ(out[p], set.image(0)[p] * 0.5f);
  apply_transform(set.image(0), 4, SampleTransform{.brightness = 4.0}, out.data());
  for (int p = 0; p < 16; ++p) EXPECT_FLOAT_EQ(out[p], std::min(255.0f, set.image(0)[p] * 4.0f));
  // Contrast 0 leaves only the mean; contrast 2 doubles each pixel's distance from it.
  const double mean = std::accumulate(set.image(0), set.image(0) + 16, 0.0) / 16;
  apply_transform(set.image(0), 4, SampleTransform{.contrast = 0.0}, out.data());
  for (int p = 0; p < 16; ++p) EXPECT_NEAR(out[p], mean, 1e-3);
  apply_transform(set.image(0), 4, SampleTransform{.contrast = 2.0}, out.data());
  for (int p = 0; p < 16; ++p) {
    EXPECT_NEAR(out[p], std::clamp(2.0 * set.image(0)[p] - mean, 0.0, 255.0), 1e-3);
  }
}

TEST(BatchAssembly, ErasingBlanksOneRectangleOfTwoToThirtyThreePercent) {
  constexpr int kSize = 32;
  const ImageSet set = ramp_set(kSize, std::vector<int>(50, 0), 1);
  std::vector<float> out(set.size() * kSize * kSize);
  std::vector<int64_t> labels(set.size());
  Rng rng(3);
  Augmentation augmentation{.enabled = true, .flip = false, .shift = 0, .erasing = 1.0};
  assemble_batch(set, all_indices(set), augmentation, rng, out.data(), labels.data());
  for (size_t i = 0; i < set.size(); ++i) {
    const float* image = out.data() + i * kSize * kSize;
    // Normalised uint8 values are never exactly 0 ((v - 127.5) / 64), so zeros are the erasure.
    int top = kSize, bottom = -1, left = kSize, right = -1, zeros = 0;
    for (int y = 0; y < kSize; ++y) {
      for (int x = 0; x < kSize; ++x) {
        if (image[y * kSize + x] != 0.0f) continue;
        ++zeros;
        top = std::min(top, y), bottom = std::max(bottom, y);
        left = std::min(left, x), right = std::max(right, x);
      }
    }
    ASSERT_GT(zeros, 0) << i;
    EXPECT_EQ(zeros, (bottom - top + 1) * (right - left + 1)) << "not one rectangle: " << i;
    EXPECT_GE(zeros, 0.02 * kSize * kSize * 0.8) << i;  // rounding of the sides
    EXPECT_LE(zeros, 0.33 * kSize * kSize * 1.2) << i;
  }
  augmentation.erasing = 0.0;
  assemble_batch(set, all_indices(set), augmentation, rng, out.data(), labels.data());
  EXPECT_EQ(std::count(out.begin(), out.end(), 0.0f), 0);
}

TEST(BatchAssembly, RandomDrawsStayInTheirRangesAndRepeat) {
  const ImageSet set = ramp_set(16, std::vector<int>(20, 0), 1);
  const Augmentation augmentation{.enabled = true,
                                  .shift = 3,
                                  .rotation = 15,
                                  .brightness = 0.3,
                                  .contrast = 0.3,
                                  .erasing = 0.5};
  std::vector<float> a(20 * 256), b(20 * 256);
  std::vector<int64_t> labels(20);
  Rng first(9), second(9);
  assemble_batch(set, all_indices(set), augmentation, first, a.data(), labels.data());
  assemble_batch(set, all_indices(set), augmentation, second, b.data(), labels.data());
  EXPECT_EQ(a, b);
  const float lowest = (0 - 127.5f) / 64.0f, highest = (255 - 127.5f) / 64.0f;
  for (const float v : a) {
    ASSERT_GE(v, lowest);
    ASSERT_LE(v, highest);
  }
  // A different seed gives different images.
  Rng third(10);
  assemble_batch(set, all_indices(set), augmentation, third, b.data(), labels.data());
  EXPECT_NE(a, b);
}

TEST(EpochOrder, ShuffleIsAPermutation) {
  const ImageSet set = ramp_set(2, std::vector<int>(100, 0), 1);
  Rng rng(5);
  std::vector<int64_t> order = epoch_order(set, Sampling::kShuffle, rng);
  EXPECT_NE(order, all_indices(set));
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, all_indices(set));
}

TEST(EpochOrder, BalancedSamplingDrawsEveryClassEquallyOften) {
  // 900 of class 0, 90 of class 1, 10 of class 2, none of class 3.
  std::vector<int> labels(900, 0);
  labels.insert(labels.end(), 90, 1);
  labels.insert(labels.end(), 10, 2);
  const ImageSet set = ramp_set(2, labels, 4);
  Rng rng(11);
  std::map<int, int> per_class;
  std::map<int64_t, int> rare_images;
  for (int epoch = 0; epoch < 6; ++epoch) {
    for (const int64_t i : epoch_order(set, Sampling::kBalanced, rng)) {
      ++per_class[set.labels[i]];
      if (set.labels[i] == 2) ++rare_images[i];
    }
  }
  // 6,000 draws, 2,000 expected per present class: chi-square with 2 degrees of freedom.
  double chi2 = 0;
  for (int c = 0; c < 3; ++c) chi2 += std::pow(per_class[c] - 2000.0, 2) / 2000.0;
  EXPECT_LT(chi2, 13.8) << per_class[0] << " " << per_class[1] << " " << per_class[2];  // p 0.001
  EXPECT_EQ(per_class.count(3), 0u);
  EXPECT_EQ(rare_images.size(), 10u) << "every rare image is drawn";
  // The shuffle order of the same set would give 5,400 / 540 / 60: the test can tell them apart.
  std::map<int, int> shuffled;
  for (const int64_t i : epoch_order(set, Sampling::kShuffle, rng)) ++shuffled[set.labels[i]];
  EXPECT_EQ(shuffled[2], 10);
}

TEST(ClassWeights, InverseFrequencyAsScikitLearnBalanced) {
  std::vector<int> labels = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2};
  const std::vector<double> weights = balanced_class_weights(ramp_set(1, labels, 4));
  ASSERT_EQ(weights.size(), 4u);
  EXPECT_DOUBLE_EQ(weights[0], 10.0 / 18.0);
  EXPECT_DOUBLE_EQ(weights[1], 10.0 / 9.0);
  EXPECT_DOUBLE_EQ(weights[2], 10.0 / 3.0);
  EXPECT_EQ(weights[3], 0.0);  // absent class
}

}  // namespace
}  // namespace fersweep::data
