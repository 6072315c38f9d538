#include "common/metrics.h"

#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

namespace fersweep {

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : num_classes_(num_classes), counts_(static_cast<size_t>(num_classes) * num_classes, 0) {
  if (num_classes <= 0) throw std::invalid_argument("ConfusionMatrix: num_classes must be > 0");
}

ConfusionMatrix::ConfusionMatrix(int num_classes, std::vector<int64_t> row_major_counts)
    : ConfusionMatrix(num_classes) {
  if (row_major_counts.size() != counts_.size()) {
    throw std::invalid_argument(fmt::format("ConfusionMatrix: {} counts given for {} classes",
                                            row_major_counts.size(), num_classes));
  }
  counts_ = std::move(row_major_counts);
}

size_t ConfusionMatrix::index(int actual, int predicted) const {
  if (actual < 0 || actual >= num_classes_ || predicted < 0 || predicted >= num_classes_) {
    throw std::out_of_range(fmt::format("ConfusionMatrix: cell ({}, {}) outside {} classes", actual,
                                        predicted, num_classes_));
  }
  return static_cast<size_t>(actual) * num_classes_ + predicted;
}

void ConfusionMatrix::add(int actual, int predicted, int64_t count) {
  counts_[index(actual, predicted)] += count;
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  if (other.num_classes_ != num_classes_) {
    throw std::invalid_argument("ConfusionMatrix::merge: class counts differ");
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t c : counts_) sum += c;
  return sum;
}

namespace {
double safe_ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;
}
}  // namespace

ClassificationReport classification_report(const ConfusionMatrix& matrix,
                                           const std::vector<std::string>& class_names) {
  const int k = matrix.num_classes();
  if (static_cast<int>(class_names.size()) != k) {
    throw std::invalid_argument(
        fmt::format("classification_report: {} names for {} classes", class_names.size(), k));
  }
  std::vector<int64_t> support(k, 0), predicted(k, 0);
  for (int a = 0; a < k; ++a) {
    for (int p = 0; p < k; ++p) {
      support[a] += matrix.at(a, p);
      predicted[p] += matrix.at(a, p);
    }
  }
  // The macro average is over the classes present in the truth or the predictions, as
  // scikit-learn's default labels are: a class of the grouping that no image has and nothing was
  // predicted as (a source subset without it) says nothing about the model (docs/RESULTS.md).
  int present = 0;
  for (int c = 0; c < k; ++c) present += support[c] > 0 || predicted[c] > 0 ? 1 : 0;
  ClassificationReport report;
  report.macro_avg.name = "macro avg";
  report.weighted_avg.name = "weighted avg";
  int64_t correct = 0;
  const int64_t total = matrix.total();
  for (int c = 0; c < k; ++c) {
    const double tp = static_cast<double>(matrix.at(c, c));
    correct += matrix.at(c, c);
    ClassMetrics m;
    m.name = class_names[c];
    m.support = support[c];
    m.precision = safe_ratio(tp, static_cast<double>(predicted[c]));
    m.recall = safe_ratio(tp, static_cast<double>(support[c]));
    m.f1 = safe_ratio(2 * m.precision * m.recall, m.precision + m.recall);
    if (support[c] > 0 || predicted[c] > 0) {
      report.macro_avg.precision += m.precision / present;
      report.macro_avg.recall += m.recall / present;
      report.macro_avg.f1 += m.f1 / present;
    }
    const double weight = safe_ratio(static_cast<double>(support[c]), static_cast<double>(total));
    report.weighted_avg.precision += m.precision * weight;
    report.weighted_avg.recall += m.recall * weight;
    report.weighted_avg.f1 += m.f1 * weight;
    report.classes.push_back(std::move(m));
  }
  report.macro_avg.support = report.weighted_avg.support = total;
  report.accuracy = safe_ratio(static_cast<double>(correct), static_cast<double>(total));
  return report;
}

bool larger_is_better(const std::string& metric, const std::string& objective,
                      bool objective_maximized) {
  if (metric == objective) return objective_maximized;
  return !metric.ends_with("loss");
}

void to_json(nlohmann::json& out, const ClassMetrics& m) {
  out = {{"name", m.name},
         {"precision", m.precision},
         {"recall", m.recall},
         {"f1", m.f1},
         {"support", m.support}};
}

void from_json(const nlohmann::json& in, ClassMetrics& m) {
  in.at("name").get_to(m.name);
  in.at("precision").get_to(m.precision);
  in.at("recall").get_to(m.recall);
  in.at("f1").get_to(m.f1);
  in.at("support").get_to(m.support);
}

}  // namespace fersweep
