// The --where filter language compiles to SQL with every user value and name bound, never pasted.
#include "results/filter.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace fersweep::results {
namespace {

const std::vector<std::string> kParams = {"lr", "arch", "filters"};
const std::vector<std::string> kMetrics = {"val_accuracy"};

TEST(Filter, CompilesClausesWithBoundValues) {
  const CompiledFilter f = compile_filter(
      "status = finished and lr < 1e-3 AND arch in (vgg16, 'resnet 18') and val_accuracy >= 0.5 "
      "and filters = [8, 16]",
      kParams, kMetrics);
  EXPECT_EQ(f.sql,
            "t.status = ? AND json_extract(t.params_json, ?) < ? AND json_extract(t.params_json, "
            "?) IN (?, ?) AND (SELECT m.value FROM trial_metrics m WHERE m.trial_id = t.id AND "
            "m.name = ?) >= ? AND json_extract(t.params_json, ?) = ?");
  using V = std::variant<double, std::string>;
  EXPECT_EQ(f.bindings,
            (std::vector<V>{"finished", "$.\"lr\"", 1e-3, "$.\"arch\"", "vgg16", "resnet 18",
                            "val_accuracy", 0.5, "$.\"filters\"", "[8,16]"}));
  EXPECT_TRUE(compile_filter("  ", kParams, kMetrics).sql.empty());
  EXPECT_EQ(compile_filter("params.lr != 2", kParams, kMetrics).sql,
            "json_extract(t.params_json, ?) != ?");
}

TEST(Filter, RejectsInjectionAndBadSyntaxNamingTheColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"'; DROP TABLE trials; --", "unterminated quoted string at column 1"},
      {"status = finished; DROP TABLE trials", "unexpected character ';' at column 18"},
      {"lr = 1) OR (1 = 1", "expected \"and\" between clauses at column 7"},
      {"sqlite_master = 1", "unknown field \"sqlite_master\""},
      {"params.x\" = 1", "unterminated quoted string at column 9"},
      {"params.a-b = 1", "bad param name \"a-b\""},
      {"lr", "expected an operator"},
      {"lr <", "expected a value"},
      {"arch in (vgg16", "expected , or )"},
      {"lr = 1 or lr = 2", "expected \"and\""},
      {"lr ! 1", "expected !="},
  };
  for (const auto& [text, fragment] : cases) {
    try {
      compile_filter(text, kParams, kMetrics);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << text << " -> " << e.what();
      EXPECT_NE(std::string(e.what()).find("--where"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace fersweep::results
