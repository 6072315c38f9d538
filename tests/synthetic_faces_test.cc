#include "data/synthetic_faces.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>

namespace fersweep::data {
namespace {

SyntheticOptions options(int count, uint64_t seed, uint64_t split = 0) {
  SyntheticOptions o;
  o.count = count;
  o.seed = seed;
  o.split = split;
  return o;
}

TEST(SyntheticFaces, SameSeedGivesIdenticalImages) {
  const ImageSet a = generate_synthetic_faces(options(50, 3));
  const ImageSet b = generate_synthetic_faces(options(50, 3));
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.image_size, 48);
  EXPECT_EQ(a.pixels.size(), 50u * 48 * 48);
  EXPECT_EQ(a.class_names, fer2013_class_names());
}

TEST(SyntheticFaces, ImageIDependsOnlyOnSeedSplitAndIndex) {
  const ImageSet small = generate_synthetic_faces(options(10, 3));
  const ImageSet large = generate_synthetic_faces(options(30, 3));
  EXPECT_TRUE(std::equal(small.pixels.begin(), small.pixels.end(), large.pixels.begin()));
  EXPECT_NE(generate_synthetic_faces(options(10, 4)).pixels, small.pixels);
  EXPECT_NE(generate_synthetic_faces(options(10, 3, 1)).pixels, small.pixels);
}

TEST(SyntheticFaces, LabelsCoverTheSevenEmotionsEvenly) {
  const ImageSet set = generate_synthetic_faces(options(1400, 9));
  std::map<int, int> counts;
  for (int label : set.labels) counts[label]++;
  ASSERT_EQ(counts.size(), 7u);
  for (const auto& [label, count] : counts) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, 7);
    EXPECT_NEAR(count, 200, 50) << set.class_names[label];
  }
}

TEST(SyntheticFaces, ImagesHaveContrastAndDifferFromEachOther) {
  const ImageSet set = generate_synthetic_faces(options(20, 5));
  const size_t n = set.pixels_per_image();
  for (size_t i = 0; i < set.size(); ++i) {
    double mean = 0, square = 0;
    for (size_t p = 0; p < n; ++p) mean += set.image(i)[p];
    mean /= n;
    for (size_t p = 0; p < n; ++p) square += std::pow(set.image(i)[p] - mean, 2);
    EXPECT_GT(std::sqrt(square / n), 10.0) << "image " << i << " is nearly flat";
    if (i > 0) {
      EXPECT_FALSE(std::equal(set.image(i), set.image(i) + n, set.image(i - 1)));
    }
  }
}

// The expressions live in the mouth and brows: the mean happy face and the mean sad face must
// differ there more than the mean faces of two random halves of one class differ anywhere.
TEST(SyntheticFaces, HappyAndSurpriseDifferInTheMouthRegion) {
  const ImageSet set = generate_synthetic_faces(options(2800, 2));
  const int size = set.image_size;
  auto mean_face = [&](int label, int parity) {
    std::vector<double> mean(set.pixels_per_image(), 0.0);
    int count = 0;
    for (size_t i = 0; i < set.size(); ++i) {
      if (set.labels[i] != label || (parity >= 0 && int(i % 2) != parity)) continue;
      // Standardise each image first: lighting and background vary far more than expressions.
      double mu = 0, sd = 0;
      for (size_t p = 0; p < mean.size(); ++p) mu += set.image(i)[p];
      mu /= mean.size();
      for (size_t p = 0; p < mean.size(); ++p) sd += std::pow(set.image(i)[p] - mu, 2);
      sd = std::sqrt(sd / mean.size());
      for (size_t p = 0; p < mean.size(); ++p) mean[p] += (set.image(i)[p] - mu) / sd;
      ++count;
    }
    for (double& v : mean) v /= count;
    return mean;
  };
  auto mouth_distance = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0;
    for (int y = size * 3 / 4 - 6; y < size * 3 / 4 + 6; ++y) {
      for (int x = size / 2 - 10; x < size / 2 + 10; ++x)
        d += std::abs(a[y * size + x] - b[y * size + x]);
    }
    return d;
  };
  const double between = mouth_distance(mean_face(3, -1), mean_face(5, -1));  // happy vs surprise
  const double within = mouth_distance(mean_face(3, 0), mean_face(3, 1));
  EXPECT_GT(between, 2 * within);
}

}  // namespace
}  // namespace fersweep::data
