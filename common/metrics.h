#pragma once
// Classification metrics from a confusion matrix, following scikit-learn's conventions with
// zero_division=0: a class never predicted has precision 0, a class never present has recall 0,
// and F1 is 0 whenever precision + recall is 0. Never NaN.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fersweep {

// counts[actual][predicted].
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes);
  ConfusionMatrix(int num_classes, std::vector<int64_t> row_major_counts);

  void add(int actual, int predicted, int64_t count = 1);
  void merge(const ConfusionMatrix& other);

  int num_classes() const { return num_classes_; }
  int64_t at(int actual, int predicted) const { return counts_[index(actual, predicted)]; }
  int64_t total() const;
  const std::vector<int64_t>& row_major() const { return counts_; }

 private:
  size_t index(int actual, int predicted) const;
  int num_classes_;
  std::vector<int64_t> counts_;
};

struct ClassMetrics {
  std::string name;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t support = 0;
};

struct ClassificationReport {
  std::vector<ClassMetrics> classes;
  double accuracy = 0;
  // Unweighted mean over the classes present in the truth or the predictions (scikit-learn's
  // default labels); a class absent from both is listed with zeros but not averaged.
  ClassMetrics macro_avg;
  ClassMetrics weighted_avg;  // mean weighted by support
};

ClassificationReport classification_report(const ConfusionMatrix& matrix,
                                           const std::vector<std::string>& class_names);

// Whether larger values of `metric` are better: a sweep's objective follows its goal; any other
// metric is minimised when it is a loss and maximised otherwise (accuracy, F1).
bool larger_is_better(const std::string& metric, const std::string& objective,
                      bool objective_maximized);

void to_json(nlohmann::json& out, const ClassMetrics& metrics);
void from_json(const nlohmann::json& in, ClassMetrics& metrics);

}  // namespace fersweep
