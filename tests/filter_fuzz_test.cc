// The --where language against a real store: signed numbers, booleans, strings with spaces and
// quotes, and nested lists compare as a reader means them, checked clause by clause against an
// evaluation of the same filter in C++ over random trials and random filters.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "results/queries.h"
#include "results/store.h"
#include "tests/test_paths.h"

namespace fersweep::results {
namespace {

using Json = nlohmann::json;

struct StoredTrialFacts {
  int64_t id;
  TrialStatus status;
  int epochs;
  Json params;
  std::optional<double> accuracy;
};

const double kRates[] = {1e-4, 0.001, 0.01, 0.05};
const char* const kArchs[] = {"vgg16", "resnet 18", "it's", "mobilenet_v2"};
const Json kLayers[] = {Json::parse("[8, 16]"), Json::parse("[[8, 16], [32]]"),
                        Json::parse(R"(["a]b", "c d"])"), Json::parse("[]")};

class FilterFuzz : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing_paths::test_scratch_path("filter_fuzz") + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    Store store(path_);
    sweep_ = store.create_sweep({"fuzz", "random", "val_accuracy", true, 1, 40, Json::object()});
    Rng rng(7);
    for (int number = 0; number < 40; ++number) {
      Json params = Json::object();
      // Every parameter is missing from some trials (conditional parameters are).
      if (uniform01(rng) < 0.9) params["lr"] = kRates[uniform_index(rng, 4)];
      if (uniform01(rng) < 0.8) params["batch_norm"] = uniform01(rng) < 0.5;
      if (uniform01(rng) < 0.8) params["arch"] = kArchs[uniform_index(rng, 4)];
      if (uniform01(rng) < 0.8) params["layers"] = kLayers[uniform_index(rng, 4)];
      const int64_t id = store.add_trial(sweep_, number, params, number);
      StoredTrialFacts facts{id, TrialStatus::kPending, 0, params, std::nullopt};
      if (number % 5 != 4) {
        store.start_trial(id, 1);
        TrialResult result;
        result.trial_id = id;
        result.epochs_completed = facts.epochs = 1 + static_cast<int>(uniform_index(rng, 4));
        result.status = number % 7 == 3 ? TrialStatus::kFailed : TrialStatus::kFinished;
        if (result.status == TrialStatus::kFinished) {
          facts.accuracy = std::round(uniform01(rng) * 20) / 20;
          result.final_metrics["val_accuracy"] = *facts.accuracy;
        }
        store.finish_trial(result, facts.accuracy);
        facts.status = result.status;
      }
      trials_.push_back(std::move(facts));
    }
  }
  std::string path_;
  int64_t sweep_ = 0;
  std::vector<StoredTrialFacts> trials_;
};

// One clause as text, and what it means for a trial.
struct Clause {
  std::string text;
  std::function<bool(const StoredTrialFacts&)> holds;
};

bool compare(double a, const std::string& op, double b) {
  if (op == "=") return a == b;
  if (op == "!=") return a != b;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  return a >= b;
}

// A number as a user might type it: signed or not, plain or in exponent form.
std::string typed(double value, Rng& rng) {
  const std::string plain = fmt::format("{}", value);
  const double draw = uniform01(rng);
  if (draw < 0.3 && value >= 0) return "+" + plain;
  if (draw < 0.45) return fmt::format("{:e}", value);
  return plain;
}

Clause random_clause(Rng& rng) {
  const char* const ops[] = {"=", "!=", "<", "<=", ">", ">="};
  const std::string op = ops[uniform_index(rng, 6)];
  const std::string eq = uniform01(rng) < 0.5 ? "=" : "!=";
  switch (uniform_index(rng, 7)) {
    case 0: {  // a number parameter, signed literals included
      const double v = uniform01(rng) < 0.5 ? kRates[uniform_index(rng, 4)] : -0.5;
      return {fmt::format("lr {} {}", op, typed(v, rng)), [=](const StoredTrialFacts& t) {
                return t.params.contains("lr") && compare(t.params["lr"].get<double>(), op, v);
              }};
    }
    case 1: {  // a boolean parameter
      const bool v = uniform01(rng) < 0.5;
      return {fmt::format("batch_norm {} {}", eq, v ? "true" : "FALSE"),
              [=](const StoredTrialFacts& t) {
                return t.params.contains("batch_norm") &&
                       compare(t.params["batch_norm"].get<bool>(), eq, v);
              }};
    }
    case 2: {  // a string parameter, quoted or bare, against strings and (never equal) numbers
      const std::string v = kArchs[uniform_index(rng, 4)];
      const bool number = uniform01(rng) < 0.15;
      const std::string literal = number                              ? "18"
                                  : v.find('\'') != std::string::npos ? '"' + v + '"'
                                                                      : "'" + v + "'";
      return {fmt::format("arch {} {}", eq, literal), [=](const StoredTrialFacts& t) {
                if (!t.params.contains("arch")) return false;
                const bool same = !number && t.params["arch"] == v;
                return eq == "=" ? same : !same;
              }};
    }
    case 3: {  // a list parameter, nested lists and brackets inside strings included
      const Json v = kLayers[uniform_index(rng, 4)];
      return {fmt::format("layers {} {}", eq, v.dump(uniform01(rng) < 0.5 ? 1 : -1)),
              [=](const StoredTrialFacts& t) {
                return t.params.contains("layers") && (t.params["layers"] == v) == (eq == "=");
              }};
    }
    case 4: {  // a metric
      const double v = std::round(uniform01(rng) * 20) / 20;
      return {fmt::format("val_accuracy {} {}", op, typed(v, rng)),
              [=](const StoredTrialFacts& t) { return t.accuracy && compare(*t.accuracy, op, v); }};
    }
    case 5: {  // epochs
      const int v = static_cast<int>(uniform_index(rng, 5));
      return {fmt::format("epochs {} {}", op, v),
              [=](const StoredTrialFacts& t) { return compare(t.epochs, op, v); }};
    }
    default: {  // status, one value or a set
      if (uniform01(rng) < 0.5) {
        return {"status in (finished, 'pending')", [](const StoredTrialFacts& t) {
                  return t.status == TrialStatus::kFinished || t.status == TrialStatus::kPending;
                }};
      }
      return {fmt::format("status {} failed", eq), [=](const StoredTrialFacts& t) {
                return (t.status == TrialStatus::kFailed) == (eq == "=");
              }};
    }
  }
}

TEST_F(FilterFuzz, GeneratedSqlSelectsWhatTheFilterMeans) {
  const Reader reader(path_);
  Rng rng(11);
  int partial = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<Clause> clauses;
    const size_t count = 1 + uniform_index(rng, 3);
    std::string text;
    for (size_t i = 0; i < count; ++i) {
      clauses.push_back(random_clause(rng));
      text += (i ? " and " : "") + clauses.back().text;
    }
    std::set<int64_t> expected, got;
    for (const auto& t : trials_) {
      if (std::all_of(clauses.begin(), clauses.end(), [&](const Clause& c) { return c.holds(t); }))
        expected.insert(t.id);
    }
    for (const auto& t : reader.list(sweep_, text)) got.insert(t.id);
    ASSERT_EQ(got, expected) << text;
    partial += !expected.empty() && expected.size() < trials_.size();
  }
  EXPECT_GT(partial, 100) << "the filters must select, not take all or nothing";
}

TEST_F(FilterFuzz, WhatCannotBeComparedIsAnInputError) {
  const Reader reader(path_);
  const std::pair<const char*, const char*> cases[] = {
      {"lr = nan", "nan cannot be compared"},
      {"lr < inf", "inf cannot be compared"},
      {"arch < vgg16", "arch < needs a number"},
      {"batch_norm > true", "batch_norm > needs a number"},
      {"layers < [1]", "layers < needs a number"},
      {"val_accuracy = high", "val_accuracy is a number, not high"},
      {"epochs = true", "epochs is a number, not true"},
      {"status = done",
       "status is one of pending, running, paused, finished, pruned, failed, interrupted"},
      {"status < 3", "status is one of"},
      {"layers = [1, 2", "unterminated [list]"},
      {"layers = [1, ]", "invalid JSON"},
      {"layers = [\"a]\", 2", "unterminated [list]"},
  };
  for (const auto& [text, fragment] : cases) {
    try {
      reader.list(sweep_, text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << text << " -> " << e.what();
    }
  }
}

}  // namespace
}  // namespace fersweep::results
