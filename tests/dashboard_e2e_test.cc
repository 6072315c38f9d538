// `fersweep serve` beside a real `mpiexec` sweep: the dashboard follows the sweep as it runs (in
// headless Chromium), the sweep never sees a locked database, and the
// server's safety rules hold on a real socket (token, read-only, size limits).
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e_support.h"

namespace fersweep::e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kBin = FERSWEEP_BIN;
const std::string kMpiexec = std::string(MPIEXEC) + " --oversubscribe";

// Waits for `serve`'s "serving http://HOST:PORT/" line in its log; 0 when it never comes.
int served_port(const std::string& log) {
  for (int i = 0; i < 200; ++i) {
    const std::string text = file_bytes(log);
    const size_t at = text.find("serving http://");
    if (at != std::string::npos) {
      const size_t colon = text.find(':', at + 15), slash = text.find('/', colon);
      return std::stoi(text.substr(colon + 1, slash - colon - 1));
    }
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Json get_json(httplib::Client& client, const std::string& path) {
  const auto reply = client.Get(path.c_str());
  if (!reply || reply->status != 200) return Json();
  return Json::parse(reply->body);
}

// How often `needle` occurs in `text`.
size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The number after `label` in `text`; -1 when absent.
int number_after(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + label.size());
}

TEST(DashboardE2E, FollowsARunningSweepInTheApiAndInChromium) {
  const std::string chromium = CHROMIUM;
  ASSERT_FALSE(chromium.empty()) << "chromium not found at configure time";
  const std::string dir = mpi_test_dir("dashboard");
  const std::string spec = dir + "/live.json", db = dir + "/live.db";
  std::ofstream(spec) << R"({
    "name": "<script>alert(1)</script>", "method": "random", "seed": 2, "epochs": 16,
    "metric": {"name": "val_accuracy", "goal": "maximize"}, "budget": {"trials": 8},
    "benchmark": {"function": "learning_curve", "seconds_per_epoch": 0.5},
    "parameters": {"lr": {"distribution": "log_uniform", "min": 1e-4, "max": 0.1}}
  })";
  const pid_t sweep =
      spawn({std::string(MPIEXEC), "--oversubscribe", "-n", "3", kBin, "run", spec, "--db", db},
            dir + "/sweep.log");
  for (int i = 0; i < 200 && !fs::exists(db); ++i) std::this_thread::sleep_for(50ms);
  const pid_t server = spawn({kBin, "serve", "--db", db, "--port", "0"}, dir + "/serve.log");
  const int port = served_port(dir + "/serve.log");
  ASSERT_GT(port, 0) << file_bytes(dir + "/serve.log");
  httplib::Client client("127.0.0.1", port);

  // A trial that has just begun, seen through the API.
  int64_t running = 0;
  Json first;
  for (int i = 0; i < 400 && running == 0; ++i) {
    first = get_json(client, "/api/sweeps/1/trials?sort=number&limit=500");
    for (const auto& t : first.value("trials", Json::array())) {
      const int epochs = t["epochs_completed"].get<int>();
      if (t["status"] == "running" && epochs >= 1 && epochs <= 2) {
        running = t["trial"].get<int64_t>();
        break;
      }
    }
    if (running == 0) std::this_thread::sleep_for(25ms);
  }
  ASSERT_NE(running, 0) << "no trial seen starting: " << first.dump();

  // The pages in a real browser, twice while the sweep runs: the trial page shows more epochs and
  // the leaderboard more finished trials on the later look; no console message on any look.
  const std::string browser = "timeout 60 " + chromium +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                              "--no-proxy-server --enable-logging=stderr --v=0 "
                              "--virtual-time-budget=3000 ";
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/#/";
  const auto look = [&](const std::string& page) {
    const Outcome dom = run(browser + "--dump-dom '" + base + page + "'");
    EXPECT_EQ(dom.exit_code, 0) << dom.output;
    EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << dom.output;
    return dom.output;
  };
  const std::string trial_page = "trial/" + std::to_string(running);
  const std::string trial_before = look(trial_page), board_before = look("sweep/1");
  // Trials take 8 s: a look (seconds on a loaded CI machine) sees the chosen one mid-run, and in
  // 8 s every worker finishes a trial.
  std::this_thread::sleep_for(8000ms);
  const std::string trial_after = look(trial_page), board_after = look("sweep/1");
  const int epochs_before = number_after(trial_before, "epochs stored: ");
  EXPECT_GE(epochs_before, 1) << trial_before;
  EXPECT_GT(number_after(trial_after, "epochs stored: "), epochs_before) << trial_after;
  const std::string finished_cell = "<td class=\"text\">finished</td>";
  EXPECT_GT(occurrences(board_after, finished_cell), occurrences(board_before, finished_cell))
      << board_before << "\n----\n"
      << board_after;
  EXPECT_NE(board_after.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos)
      << board_after;
  EXPECT_EQ(occurrences(board_after, "<script"), 1u) << "only the page's own script";
  const std::string png = dir + "/dashboard.png";
  const Outcome shot =
      run(browser + "--window-size=1200,900 --screenshot=" + png + " '" + base + "sweep/1'");
  EXPECT_EQ(shot.exit_code, 0) << shot.output;
  EXPECT_GT(fs::file_size(png), 10000u);
  fs::create_directories(ARTIFACT_DIR);  // kept for a person to look at: build/Testing/artifacts
  fs::copy_file(png, std::string(ARTIFACT_DIR) + "/dashboard.png",
                fs::copy_options::overwrite_existing);

  EXPECT_EQ(wait_exit(sweep), 0) << file_bytes(dir + "/sweep.log");
  const std::string sweep_log = file_bytes(dir + "/sweep.log");
  EXPECT_EQ(sweep_log.find("locked"), std::string::npos) << sweep_log;
  const auto last = client.Get("/api/sweeps/1/trials?limit=500");
  ASSERT_TRUE(last) << httplib::to_string(last.error());
  ASSERT_EQ(last->status, 200) << last->body;
  int finished = 0;
  const Json trials = Json::parse(last->body).at("trials");
  for (const auto& t : trials) finished += t.at("status") == "finished";
  EXPECT_EQ(finished, 8) << last->body.substr(0, 600);
  kill(server, SIGTERM);
  EXPECT_EQ(wait_exit(server), 0) << file_bytes(dir + "/serve.log");
}

TEST(DashboardE2E, TokenReadOnlyAndSizeLimitsOnARealSocket) {
  const std::string dir = mpi_test_dir("dashboard_safety");
  const std::string db = dir + "/done.db", spec = dir + "/done.json";
  std::ofstream(spec) << R"({
    "method": "random", "epochs": 2, "metric": {"name": "value", "goal": "minimize"},
    "budget": {"trials": 3}, "benchmark": {"function": "branin"},
    "parameters": {"x1": {"distribution": "uniform", "min": -5, "max": 10}}
  })";
  ASSERT_EQ(run(kBin + " run " + spec + " --db " + db + " --quiet").exit_code, 0);
  const std::string before = file_bytes(db);

  const Outcome open = run(kBin + " serve --db " + db + " --host 0.0.0.0 --port 0");
  EXPECT_EQ(open.exit_code, 2) << open.output;
  EXPECT_NE(open.output.find("--token"), std::string::npos) << open.output;
  EXPECT_EQ(run(kBin + " serve --db " + dir + "/missing.db --port 0").exit_code, 2);

  std::ofstream(dir + "/token") << "s3cret-token\n";
  const pid_t server = spawn({kBin, "serve", "--db", db, "--host", "0.0.0.0", "--port", "0",
                              "--token-file", dir + "/token"},
                             dir + "/serve.log");
  const int port = served_port(dir + "/serve.log");
  ASSERT_GT(port, 0) << file_bytes(dir + "/serve.log");
  httplib::Client client("127.0.0.1", port);
  EXPECT_EQ(client.Get("/api/sweeps")->status, 401);
  EXPECT_EQ(client.Get("/api/sweeps?token=wrong")->status, 401);
  EXPECT_EQ(client.Get("/api/sweeps?token=s3cret-token")->status, 200);
  EXPECT_EQ(client.Get("/api/sweeps", {{"Authorization", "Bearer s3cret-token"}})->status, 200);
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret-token"}};
  EXPECT_EQ(client.Get("/no/such/route", auth)->status, 404);
  EXPECT_EQ(client.Post("/api/sweeps", auth, "x", "text/plain")->status, 405);
  const auto large = client.Post("/api/sweeps", auth, std::string(100000, 'x'), "text/plain");
  ASSERT_TRUE(large);
  EXPECT_EQ(large->status, 413);
  const auto long_url = client.Get(("/api/sweeps?where=" + std::string(20000, 'a')).c_str(), auth);
  ASSERT_TRUE(long_url);
  EXPECT_GE(long_url->status, 400);
  EXPECT_LT(long_url->status, 500);
  kill(server, SIGTERM);
  EXPECT_EQ(wait_exit(server), 0);
  EXPECT_EQ(file_bytes(db), before) << "the server wrote to the database";
}

}  // namespace
}  // namespace fersweep::e2e
