#include "common/metrics.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>

#include <nlohmann/json.hpp>

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

// A class of the grouping that no image has and nothing was predicted as (a source subset without
// disgust, say) is listed with zeros but left out of the macro average.
TEST(ClassificationReport, MacroAverageLeavesOutClassesAbsentFromTruthAndPredictions) {
  const ConfusionMatrix m(3, {5, 2, 0, 1, 3, 0, 0, 0, 0});
  const ClassificationReport r = classification_report(m, kAbc);
  EXPECT_EQ(r.classes.size(), 3u);
  EXPECT_EQ(r.classes[2].f1, 0.0);
  // A: precision 5/6, recall 5/7, F1 10/13; B: precision 3/5, recall 3/4, F1 2/3.
  EXPECT_NEAR(r.macro_avg.f1, (10.0 / 13 + 2.0 / 3) / 2, 1e-12);
  EXPECT_NEAR(r.macro_avg.recall, (5.0 / 7 + 3.0 / 4) / 2, 1e-12);
}

// 60 random matrices, 27 with absent classes, scored by scikit-learn 1.2 (tests/data/
// sklearn_reports.py writes them): every per-class figure, accuracy, macro and weighted average.
TEST(ClassificationReport, MatchesScikitLearnOnRandomMatrices) {
  std::ifstream in(FERSWEEP_SOURCE_DIR "/tests/data/sklearn_reports.json");
  ASSERT_TRUE(in);
  const nlohmann::json reference = nlohmann::json::parse(in);
  ASSERT_GE(reference.at("cases").size(), 50u);
  int with_absent = 0;
  for (const auto& c : reference.at("cases")) {
    const int k = c.at("classes");
    std::vector<std::string> names;
    for (int i = 0; i < k; ++i) names.push_back(std::to_string(i));
    const ClassificationReport r = classification_report(
        ConfusionMatrix(k, c.at("counts").get<std::vector<int64_t>>()), names);
    const auto& per_class = c.at("per_class");
    with_absent += per_class.size() < static_cast<size_t>(k);
    for (int i = 0; i < k; ++i) {
      const ClassMetrics& mine = r.classes[static_cast<size_t>(i)];
      if (!per_class.contains(names[i])) {  // absent from both: zeros
        EXPECT_EQ(mine.f1 + mine.precision + mine.recall, 0.0) << c.at("counts");
        continue;
      }
      const auto& theirs = per_class.at(names[i]);
      EXPECT_NEAR(mine.precision, theirs.at("precision").get<double>(), 1e-12) << c.at("counts");
      EXPECT_NEAR(mine.recall, theirs.at("recall").get<double>(), 1e-12);
      EXPECT_NEAR(mine.f1, theirs.at("f1-score").get<double>(), 1e-12);
      EXPECT_EQ(mine.support, theirs.at("support").get<int64_t>());
    }
    EXPECT_NEAR(r.accuracy, c.at("accuracy").get<double>(), 1e-12);
    for (const auto& [mine, key] :
         {std::pair{&r.macro_avg, "macro avg"}, std::pair{&r.weighted_avg, "weighted avg"}}) {
      const auto& theirs = c.at(key);
      EXPECT_NEAR(mine->precision, theirs.at("precision").get<double>(), 1e-12)
          << key << c.at("counts");
      EXPECT_NEAR(mine->recall, theirs.at("recall").get<double>(), 1e-12) << key << c.at("counts");
      EXPECT_NEAR(mine->f1, theirs.at("f1-score").get<double>(), 1e-12) << key << c.at("counts");
    }
  }
  EXPECT_GE(with_absent, 10);
}

TEST(ClassificationReport, RejectsWrongNameCount) {
  EXPECT_THROW(classification_report(ConfusionMatrix(3), {"a", "b"}), std::invalid_argument);
}

}  // namespace
}  // namespace fersweep
