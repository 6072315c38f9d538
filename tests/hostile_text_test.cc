// Hostile names and messages through every results view: text stays free of control
// characters, JSON and CSV stay valid UTF-8, the HTML report escapes everything, and every SVG
// figure parses as well-formed XML (expat, a conforming parser).
#include <expat.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_reader.h"
#include "common/text.h"
#include "results/importance.h"
#include "results/queries.h"
#include "results/report.h"
#include "results/tables.h"
#include "results/views.h"
#include "tests/hostile_store.h"
#include "tests/test_paths.h"

namespace fersweep::results {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Where `xml` is not well-formed, expat's reason and line; empty when it is.
std::string xml_problem(const std::string& xml) {
  XML_Parser parser = XML_ParserCreate(nullptr);
  const bool ok = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  const std::string problem = ok ? ""
                                 : std::string(XML_ErrorString(XML_GetErrorCode(parser))) +
                                       " at line " +
                                       std::to_string(XML_GetCurrentLineNumber(parser));
  XML_ParserFree(parser);
  return problem;
}

void expect_clean_terminal_text(const std::string& raw, const std::string& what) {
  const std::string text = terminal_text(raw);
  EXPECT_EQ(valid_utf8(text), text) << what;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_FALSE((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f)
        << what << ": control byte " << static_cast<int>(byte);
  }
}

class HostileText : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_paths::test_scratch_path("hostile");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "hostile.db").string();
    testing_hostile::write_hostile_sweep(db_);
  }
  fs::path dir_;
  std::string db_;
};

TEST_F(HostileText, TextAndJsonViewsStayCleanAndParse) {
  const Reader reader(db_);
  const SweepSummary sweep = reader.sweep(std::nullopt);
  const auto ranked = reader.rank(sweep.id, sweep.metric, true, 10);
  ASSERT_EQ(ranked.size(), 5u);
  const auto all = reader.trials(sweep.id);
  std::vector<TrialDetail> details;
  for (const auto& t : all) details.push_back(reader.trial(t.id));
  const ImportanceView importance = sweep_importance(reader, sweep);
  const std::pair<std::string, std::string> texts[] = {
      {"sweeps", sweeps_table(reader.sweeps())},
      {"rank", rank_table(sweep, ranked, sweep.metric)},
      {"list", list_table(all, sweep.metric)},
      {"show", trial_text(details.front(), true)},
      {"show failed", trial_text(details.back())},
      {"compare", compare_text(details)},
      {"summary", summary_text(summary_json(sweep, all))},
      {"importance", importance_table(importance)}};
  for (const auto& [what, text] : texts) expect_clean_terminal_text(text, what);
  // The hostile bytes were there to be cleaned: the class name reaches the table, shown.
  EXPECT_NE(terminal_text(texts[3].second).find("Angrycaf\\xe9 \\x1b["), std::string::npos);

  const nlohmann::json documents[] = {sweeps_json(reader.sweeps()),
                                      rank_json(sweep, ranked, sweep.metric),
                                      list_json(all),
                                      trial_json(details.front()),
                                      trial_json(details.back()),
                                      compare_json(details),
                                      summary_json(sweep, all),
                                      importance_json(importance)};
  for (const auto& document : documents) {
    const std::string text = json_text(document, 2);
    EXPECT_EQ(valid_utf8(text), text);
    EXPECT_NO_THROW(nlohmann::json::parse(text)) << text.substr(0, 200);
  }
}

TEST_F(HostileText, HtmlCsvAndSvgStayWellFormed) {
  const Reader reader(db_);
  const SweepSummary sweep = reader.sweep(std::nullopt);
  const std::string html = html_report(reader, sweep);
  EXPECT_EQ(valid_utf8(html), html);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "a name injected markup";
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.find('\x07'), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;&quot;&amp;&#39;)"), std::string::npos);

  const auto plots = write_plots(reader, sweep, (dir_ / "plots").string());
  ASSERT_GE(plots.size(), 4u);  // curves, per-class F1, parallel coordinates, importance, matrices
  int matrices = 0;
  for (const auto& file : plots) {
    EXPECT_EQ(xml_problem(read(file)), "") << file;
    matrices += file.find("confusion_") != std::string::npos;
  }
  EXPECT_GE(matrices, 1);

  for (const auto& file : export_sweep(reader, sweep, "csv", (dir_ / "csv").string())) {
    const std::string csv = read(file);
    EXPECT_EQ(valid_utf8(csv), csv) << file;
  }
}

// The check is real: the same figure made of raw names, as before, is not XML.
TEST(XmlCheck, RejectsWhatTheOldEscapeLetThrough) {
  EXPECT_NE(xml_problem("<svg><text>Dis\x07gust</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg><text>caf\xe9</text></svg>"), "");
  EXPECT_EQ(xml_problem("<svg><text>" + markup_text("Dis\x07gust caf\xe9") + "</text></svg>"), "");
}

}  // namespace
}  // namespace fersweep::results
