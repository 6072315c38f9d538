// The dashboard's routes, called directly (dashboard/api.h): paging, sorting and filtering in SQL
// against the CLI's ranking, 4xx for bad input, and hostile strings kept valid in JSON and SVG.
#include "dashboard/api.h"

#include <expat.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "results/queries.h"
#include "results/store.h"
#include "tests/hostile_store.h"
#include "tests/test_paths.h"

namespace fersweep::dashboard {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool well_formed_xml(const std::string& xml) {
  XML_Parser parser = XML_ParserCreate(nullptr);
  const bool ok = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  XML_ParserFree(parser);
  return ok;
}

class DashboardApi : public testing::Test {
 protected:
  void SetUp() override {
    db_ = testing_paths::test_scratch_path("dashboard") + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_ + suffix);
  }
  // 130 trials: finished with val_accuracy (number * 7 mod 130) / 130, every tenth failed
  // without metrics, the last still running with two epochs.
  int64_t write_sweep() {
    results::Store store(db_);
    const int64_t sweep = store.create_sweep({"live", "random", "val_accuracy", true, 1, 130, {}});
    for (int number = 0; number < 130; ++number) {
      const int64_t id = store.add_trial(sweep, number, {{"lr", 0.001 * (number + 1)}}, number);
      store.start_trial(id, 1 + number % 3);
      const double value = ((number * 7) % 130) / 130.0;
      for (int epoch = 1; epoch <= 2; ++epoch) {
        store.record_epoch({id, epoch, 0.1, {{"val_accuracy", value * epoch / 2}}, {}});
      }
      if (number == 129) continue;
      TrialResult result;
      result.trial_id = id;
      result.status = number % 10 == 5 ? TrialStatus::kFailed : TrialStatus::kFinished;
      result.epochs_completed = 2;
      if (result.status == TrialStatus::kFinished) result.final_metrics = {{"val_accuracy", value}};
      store.finish_trial(
          result, result.status == TrialStatus::kFinished ? std::optional(value) : std::nullopt);
    }
    return sweep;
  }
  Reply get(const std::string& path, std::map<std::string, std::string> query = {}) {
    return api_->answer({path, std::move(query)});
  }
  std::string db_;
  std::unique_ptr<Api> api_;
};

TEST_F(DashboardApi, PagesSortAndFilterInSqlAsTheRankingDoes) {
  const int64_t sweep = write_sweep();
  api_ = std::make_unique<Api>(db_);
  const std::string base = "/api/sweeps/" + std::to_string(sweep);

  const Reply summary = get(base);
  ASSERT_EQ(summary.status, 200) << summary.body;
  const Json s = Json::parse(summary.body);
  EXPECT_EQ(s.at("trials_by_status").at("finished"), 116);
  EXPECT_EQ(s.at("trials_by_status").at("failed"), 13);
  EXPECT_EQ(s.at("trials_by_status").at("running"), 1);
  EXPECT_EQ(s.at("parameters"), Json::array({"lr"}));
  const results::Reader reader(db_);
  const auto ranked = reader.rank(sweep, "val_accuracy", true, 1000);
  EXPECT_EQ(s.at("best").at("trial"), ranked.front().id);

  // Page 2 of the leaderboard (descending val_accuracy) is the ranking's rows 20..39.
  const Reply page = get(base + "/trials", {{"limit", "20"}, {"offset", "20"}});
  ASSERT_EQ(page.status, 200) << page.body;
  const Json p = Json::parse(page.body);
  EXPECT_EQ(p.at("total"), 130);
  ASSERT_EQ(p.at("trials").size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(p["trials"][i]["trial"], ranked[20 + i].id) << i;
  // Trials without the metric come last, then by number; ascending turns the ranking around.
  const Json tail = Json::parse(get(base + "/trials", {{"offset", "116"}}).body);
  ASSERT_EQ(tail.at("trials").size(), 14u);
  EXPECT_EQ(tail["trials"][0]["status"], "failed");
  const Json ascending =
      Json::parse(get(base + "/trials", {{"order", "asc"}, {"limit", "1"}}).body);
  EXPECT_EQ(ascending["trials"][0]["trial"], ranked.back().id);
  const Json by_number = Json::parse(
      get(base + "/trials", {{"sort", "number"}, {"order", "asc"}, {"limit", "3"}}).body);
  EXPECT_EQ(by_number["trials"][2]["number"], 2);
  // The --where language, counted and paged by the database.
  const Json filtered = Json::parse(
      get(base + "/trials", {{"where", "status = finished and lr < 0.0505"}, {"limit", "500"}})
          .body);
  EXPECT_EQ(filtered.at("total"), 45);
  EXPECT_EQ(filtered.at("trials").size(), 45u);

  const Reply trial = get("/api/trials/" + std::to_string(ranked.front().id));
  ASSERT_EQ(trial.status, 200);
  EXPECT_EQ(Json::parse(trial.body).at("epochs").size(), 2u);
  const Reply curve = get("/svg/trials/" + std::to_string(ranked.front().id) + "/curves.svg",
                          {{"metric", "val_accuracy"}});
  EXPECT_EQ(curve.content_type, "image/svg+xml");
  EXPECT_TRUE(well_formed_xml(curve.body));
  EXPECT_TRUE(well_formed_xml(get("/svg/sweeps/" + std::to_string(sweep) + "/parallel.svg").body));
  const Reply importance = get("/svg/sweeps/" + std::to_string(sweep) + "/importance.svg");
  ASSERT_EQ(importance.status, 200) << importance.body;
  EXPECT_TRUE(well_formed_xml(importance.body));
  EXPECT_NE(importance.body.find("lr"), std::string::npos);
  const Reply page_html = get("/");
  EXPECT_EQ(page_html.status, 200);
  EXPECT_NE(page_html.body.find("<script>"), std::string::npos);
}

TEST_F(DashboardApi, BadRequestsAre4xxNamingTheProblem) {
  const int64_t sweep = write_sweep();
  api_ = std::make_unique<Api>(db_);
  const std::string base = "/api/sweeps/" + std::to_string(sweep);
  const auto expect = [&](const Reply& reply, int status, const std::string& fragment) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_NE(Json::parse(reply.body).at("error").get<std::string>().find(fragment),
              std::string::npos)
        << reply.body;
  };
  expect(get("/api/nothing"), 404, "no such route");
  expect(get("/api/sweeps/99"), 404, "no sweep 99");
  expect(get("/api/sweeps/x1"), 404, "no sweep x1");
  expect(get("/api/trials/123456"), 404, "no trial 123456");
  expect(get(base + "/trials", {{"where", "lr <"}}), 400, "expected a value");
  expect(get(base + "/trials", {{"where", "colour = red"}}), 400, "colour");
  expect(get(base + "/trials", {{"limit", "0"}}), 400, "limit");
  expect(get(base + "/trials", {{"offset", "-1"}}), 400, "offset");
  expect(get(base + "/trials", {{"order", "up"}}), 400, "order");
  expect(get(base + "/trials", {{"sort", "val_f1"}}), 400, "val_f1");
  expect(get("/svg/trials/1/confusion.svg"), 404, "no confusion matrix");
}

// Every name and message of a hostile sweep reaches the client as valid JSON and valid SVG.
TEST_F(DashboardApi, HostileStringsStayValidJsonAndSvg) {
  testing_hostile::write_hostile_sweep(db_);
  api_ = std::make_unique<Api>(db_);
  const results::Reader reader(db_);
  const results::SweepSummary sweep = reader.sweep(std::nullopt);
  const std::string base = "/api/sweeps/" + std::to_string(sweep.id);
  for (const std::string& path : {std::string("/api/sweeps"), base, base + "/trials"}) {
    const Reply reply = get(path);
    ASSERT_EQ(reply.status, 200) << path << ": " << reply.body;
    // Markup stays in JSON strings (served as application/json with nosniff; the page sets
    // every string as text); the body must parse, bytes that are not UTF-8 replaced.
    EXPECT_NO_THROW(Json::parse(reply.body)) << path;
  }
  for (const auto& t : reader.trials(sweep.id)) {
    const std::string id = std::to_string(t.id);
    EXPECT_NO_THROW(Json::parse(get("/api/trials/" + id).body)) << id;
    for (const char* figure : {"curves.svg", "confusion.svg"}) {
      const Reply svg = get("/svg/trials/" + id + "/" + figure);
      if (svg.status == 404) continue;  // no matrix for this trial
      EXPECT_TRUE(well_formed_xml(svg.body)) << id << " " << figure;
      EXPECT_EQ(svg.body.find("<script>"), std::string::npos) << id << " " << figure;
    }
  }
  const Reply parallel = get("/svg/sweeps/" + std::to_string(sweep.id) + "/parallel.svg");
  EXPECT_TRUE(well_formed_xml(parallel.body));
}

}  // namespace
}  // namespace fersweep::dashboard
