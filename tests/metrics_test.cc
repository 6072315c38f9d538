#include "common/metrics.h"

#include <gtest/gtest.h>

namespace fersweep {
namespace {

const std::vector<std::string> kAbc = {"A", "B", "C"};

TEST(ConfusionMatrix, AddsCountsAndRejectsCellsOutside) {
  ConfusionMatrix m(3);
  m.add(0, 1);
  m.add(0, 1, 4);
  m.add(2, 2);
  EXPECT_EQ(m.at(0, 1), 5);
  EXPECT_EQ(m.at(2, 2), 1);
  EXPECT_EQ(m.total(), 6);
  EXPECT_THROW(m.add(3, 0), std::out_of_range);
  EXPECT_THROW(m.add(0, -1), std::out_of_range);
  EXPECT_THROW(ConfusionMatrix(2, {1, 2, 3}), std::invalid_argument);
}

// Hand computation (rows actual, columns predicted):
//        A  B  C
//   A    5  2  0    support 7, predicted-as-A 6
//   B    1  3  1    support 5, predicted-as-B 5
//   C    0  0  0    support 0 (never present), predicted-as-C 1
TEST(ClassificationReport, MatchesHandComputationWithZeroRow) {
  const ConfusionMatrix m(3, {5, 2, 0, 1, 3, 1, 0, 0, 0});
  const ClassificationReport r = classification_report(m, kAbc);
  ASSERT_EQ(r.classes.size(), 3u);
  EXPECT_DOUBLE_EQ(r.classes[0].precision, 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(r.classes[0].recall, 5.0 / 7.0);
  EXPECT_NEAR(r.classes[0].f1, 10.0 / 13.0, 1e-12);
  EXPECT_EQ(r.classes[0].support, 7);
  EXPECT_DOUBLE_EQ(r.classes[1].precision, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(r.classes[1].recall, 3.0 / 5.0);
  EXPECT_NEAR(r.classes[1].f1, 3.0 / 5.0, 1e-12);
  // C was predicted once, wrongly, and never occurs: everything 0, nothing NaN.
  EXPECT_EQ(r.classes[2].precision, 0.0);
  EXPECT_EQ(r.classes[2].recall, 0.0);
  EXPECT_EQ(r.classes[2].f1, 0.0);
  EXPECT_EQ(r.classes[2].support, 0);
  EXPECT_DOUBLE_EQ(r.accuracy, 8.0 / 12.0);
  EXPECT_NEAR(r.macro_avg.precision, (5.0 / 6 + 3.0 / 5) / 3, 1e-12);
  EXPECT_NEAR(r.macro_avg.recall, (5.0 / 7 + 3.0 / 5) / 3, 1e-12);
  EXPECT_NEAR(r.macro_avg.f1, (10.0 / 13 + 3.0 / 5) / 3, 1e-12);
  EXPECT_NEAR(r.weighted_avg.precision, 53.0 / 72.0, 1e-12);
  EXPECT_NEAR(r.weighted_avg.recall, (7 * 5.0 / 7 + 5 * 3.0 / 5) / 12, 1e-12);
  EXPECT_EQ(r.macro_avg.support, 12);
}

// The seed report lost its MobileNetV2 report to exactly this: one class predicted for all.
TEST(ClassificationReport, AllOneClassPredictionHasZeroPrecisionNotNaN) {
  const ConfusionMatrix m(3, {4, 0, 0, 3, 0, 0, 2, 0, 0});
  const ClassificationReport r = classification_report(m, kAbc);
  EXPECT_DOUBLE_EQ(r.classes[0].precision, 4.0 / 9.0);
  EXPECT_DOUBLE_EQ(r.classes[0].recall, 1.0);
  EXPECT_NEAR(r.classes[0].f1, 8.0 / 13.0, 1e-12);
  for (int c : {1, 2}) {
    EXPECT_EQ(r.classes[c].precision, 0.0) << c;
    EXPECT_EQ(r.classes[c].recall, 0.0) << c;
    EXPECT_EQ(r.classes[c].f1, 0.0) << c;
  }
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 9.0);
  EXPECT_NEAR(r.macro_avg.f1, 8.0 / 39.0, 1e-12);
}

TEST(ClassificationReport, EmptyMatrixIsAllZeros) {
  const ClassificationReport r = classification_report(ConfusionMatrix(2), {"x", "y"});
  EXPECT_EQ(r.accuracy, 0.0);
  EXPECT_EQ(r.macro_avg.f1, 0.0);
  EXPECT_EQ(r.weighted_avg.precision, 0.0);
}

TEST(ClassificationReport, RejectsWrongNameCount) {
  EXPECT_THROW(classification_report(ConfusionMatrix(3), {"a", "b"}), std::invalid_argument);
}

}  // namespace
}  // namespace fersweep
