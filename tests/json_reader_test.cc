// Strict JSON reading for everything a user writes or a database gives back: nesting bounded,
// repeated keys refused, errors naming the source and the path.
#include "common/json_reader.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace fersweep {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_json(text, "spec.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ParseJson, DeepNestingIsAnInputErrorNotACrash) {
  // 100,000 levels overflowed the stack of the recursive code that handles a parsed document.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(deep),
            "spec.json: [0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
            "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
            "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
            "[0]: nested deeper than 64 levels");
  const std::string objects = [] {
    std::string text;
    for (int i = 0; i < 70; ++i) text += "{\"a\": ";
    return text + "1" + std::string(70, '}');
  }();
  EXPECT_NE(error_of(objects).find(": nested deeper than 64 levels"), std::string::npos);
  EXPECT_EQ(error_of("{\"parameters\": " + std::string(65, '[') + std::string(65, ']') + "}")
                .substr(0, 36),
            "spec.json: parameters[0][0][0][0][0]");
  // The limit itself is fine.
  const std::string limit = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(parse_json(limit, "x").dump(), limit);
}

TEST(ParseJson, ARepeatedKeyIsAnErrorNamingItsPath) {
  EXPECT_EQ(error_of(R"({"epochs": 1, "method": "grid", "epochs": 3})"),
            "spec.json: epochs: key appears twice in one object");
  EXPECT_EQ(error_of(R"({"parameters": {"lr": {"min": 1, "max": 2, "min": 0.5}}})"),
            "spec.json: parameters.lr.min: key appears twice in one object");
  EXPECT_EQ(error_of(R"({"a": [{"b": 1}, {"b": 2, "c": [1, {"d": 0, "d": 0}]}]})"),
            "spec.json: a[1].c[1].d: key appears twice in one object");
  // The same key in different objects is no repetition.
  EXPECT_NO_THROW(parse_json(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}]})", "ok"));
}

TEST(ParseJson, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"method\": \"grid\",\n}").substr(0, 36),
            "spec.json:3:1: invalid JSON ([json.e");
  EXPECT_NE(error_of("").find("spec.json:1:1: invalid JSON"), std::string::npos);
}

TEST(JsonText, InvalidUtf8IsReplacedNotThrown) {
  const Json value = {{"class", std::string("Ang\xff"
                                            "ry")}};
  EXPECT_EQ(json_text(value), "{\"class\":\"Ang\xEF\xBF\xBDry\"}");
  EXPECT_THROW(value.dump(), Json::type_error) << "what json_text guards against";
}

}  // namespace
}  // namespace fersweep
