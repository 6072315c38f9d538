// fersweep under a real Slurm: a one-node cluster on this machine (cluster/slurm/local-slurm.sh),
// the sbatch template submitted with a tiny synthetic sweep, requeued once mid-sweep, and the
// database checked after the job completes. Skips, saying why, where Slurm cannot run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "results/queries.h"
#include "results/sqlite.h"
#include "tests/e2e_support.h"

namespace fersweep {
namespace {

namespace fs = std::filesystem;
using e2e::Outcome;
using e2e::run;
using Json = nlohmann::json;

const std::string kBin = FERSWEEP_BIN;
const std::string kRoot = FERSWEEP_SOURCE_DIR;
constexpr int kTrials = 8;

bool has_slurm() {
  return run("command -v sbatch && command -v slurmctld && command -v slurmd && command -v munged")
             .exit_code == 0;
}

// Where Slurm is missing, Debian's packages are installed (as the issue asks); where that is not
// possible (no root, no apt, no network) the test is skipped with the reason.
std::string install_slurm() {
  if (has_slurm()) return "";
  if (geteuid() != 0) return "Slurm is not installed and installing it needs root";
  if (run("command -v apt-get").exit_code != 0)
    return "Slurm is not installed and there is no apt-get";
  const std::string install =
      "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge";
  Outcome out = run(install);
  if (out.exit_code != 0) out = run("apt-get update && " + install);
  if (out.exit_code != 0 || !has_slurm()) {
    return "apt-get could not install slurm-wlm and munge: " +
           out.output.substr(out.output.size() > 400 ? out.output.size() - 400 : 0);
  }
  return "";
}

std::string job_field(const std::string& job, const std::string& field) {
  const Outcome shown = run("scontrol show job " + job);
  const std::regex pattern(field + "=([^ \\n]*)");
  std::smatch match;
  return std::regex_search(shown.output, match, pattern) ? match[1].str() : "";
}

template <typename Condition>
bool wait_for(Condition condition, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

TEST(SlurmE2E, SbatchTemplateRunsTheSweepAndResumesAfterARequeue) {
  // The test starts Slurm daemons; a site can keep it from doing so.
  if (std::getenv("FERSWEEP_SKIP_SLURM")) GTEST_SKIP() << "FERSWEEP_SKIP_SLURM is set";
  if (geteuid() != 0) GTEST_SKIP() << "a local Slurm needs root (slurmd runs jobs as their user)";
  if (const std::string why = install_slurm(); !why.empty()) GTEST_SKIP() << why;

  const std::string dir = testing_paths::process_scratch_dir() + "/slurm";
  fs::create_directories(dir);
  // Ports of our own, so a site's Slurm on the default ones is never touched.
  const std::string start = "FERSWEEP_SLURMCTLD_PORT=16817 FERSWEEP_SLURMD_PORT=16818 " + kRoot +
                            "/cluster/slurm/local-slurm.sh start " + dir + "/slurm";
  const Outcome started = run(start);
  // Stops exactly the daemons started here (their PID files are in `dir`), then removes `dir`.
  struct StopDaemons {
    std::string command, dir;
    ~StopDaemons() {
      run(command);
      fs::remove_all(dir);
    }
  } stop{kRoot + "/cluster/slurm/local-slurm.sh stop " + dir + "/slurm", dir};
  if (started.exit_code == 3) GTEST_SKIP() << started.output;
  ASSERT_EQ(started.exit_code, 0) << started.output;
  setenv("SLURM_CONF", (dir + "/slurm/slurm.conf").c_str(), 1);

  Json spec = Json::parse(R"({
    "name": "slurm", "method": "grid", "seed": 1, "epochs": 3,
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "data": {"train_size": 1500, "val_size": 40, "image_size": 24, "seed": 2},
    "resources": {"threads_per_worker": 1},
    "parameters": {"filters": {"value": [4, 8]}, "convs_per_block": {"value": 1},
                   "dense": {"value": [16]}, "lr": {"values": [0.01, 0.02, 0.03, 0.04]},
                   "batch_size": {"values": [16, 32]}}
  })");
  std::ofstream(dir + "/spec.json") << spec.dump(2);
  const std::string shared_db = dir + "/shared/sweep.db", local_db = dir + "/local/sweep.db";
  // --overcommit: 3 ranks on a 2-core node; the coordinator mostly sleeps.
  const Outcome submitted =
      run("sbatch --parsable --overcommit --ntasks=3 --output=" + dir + "/job.out" +
          " --export=ALL,FERSWEEP_BIN=" + kBin + ",FERSWEEP_ROOT=" + kRoot +
          ",FERSWEEP_SPEC=" + dir + "/spec.json,FERSWEEP_DB=" + shared_db +
          ",FERSWEEP_LOCAL_DIR=" + dir + "/local " + kRoot + "/cluster/slurm/fersweep.sbatch");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  const std::string job = submitted.output.substr(0, submitted.output.find_first_of(";\n"));

  // Requeue once the sweep has finished a trial: Slurm stops the job (SIGTERM to every process
  // of it), the script copies the database out, and the job goes back into the queue.
  ASSERT_TRUE(wait_for([&] { return e2e::finished_trials(local_db) >= 1; }, 120))
      << job_field(job, "JobState") << "\n"
      << e2e::file_bytes(dir + "/job.out");
  ASSERT_EQ(run("scontrol requeue " + job).exit_code, 0);
  ASSERT_TRUE(wait_for(
      [&] { return job_field(job, "Restarts") == "1" && job_field(job, "JobState") == "PENDING"; },
      60));
  // Slurm holds a requeued job for about two minutes; start it now.
  run("scontrol update JobId=" + job + " StartTime=now");
  ASSERT_TRUE(wait_for([&] { return job_field(job, "JobState") == "COMPLETED"; }, 180))
      << job_field(job, "JobState") << "\n"
      << e2e::file_bytes(dir + "/job.out");

  const std::string log = e2e::file_bytes(dir + "/job.out");
  EXPECT_NE(log.find("(restart 1)"), std::string::npos) << log;
  const results::Reader reader(shared_db);
  const auto sweeps = reader.sweeps();
  ASSERT_EQ(sweeps.size(), 1u) << log;
  EXPECT_EQ(sweeps[0].status, SweepStatus::kFinished);
  std::set<std::string> finished;
  int continued = 0;
  for (const auto& t : reader.trials(sweeps[0].id)) {
    if (t.status == TrialStatus::kFinished) {
      EXPECT_TRUE(finished.insert(t.params.dump()).second);
      EXPECT_EQ(reader.trial(t.id).epochs.size(), 3u) << "trial " << t.id;
      // Beside the shared database, not in the node-local directory a requeue leaves behind.
      EXPECT_EQ(t.checkpoint.rfind(dir + "/shared/sweep_checkpoints/", 0), 0u) << t.checkpoint;
    }
    // A trial the requeue stopped continues from its last epoch after it, as the same trial.
    continued += t.runs > 1;
    EXPECT_LE(t.epochs_redone, t.runs - 1) << "at most the epoch in flight, per interruption";
    EXPECT_EQ(t.status, TrialStatus::kFinished) << t.error;
  }
  EXPECT_EQ(finished.size(), static_cast<size_t>(kTrials));
  EXPECT_GE(continued, 1) << "the requeue interrupted nothing: nothing was tested";
  sql::Database check(shared_db, true);
  sql::Statement integrity(check, "PRAGMA integrity_check");
  ASSERT_TRUE(integrity.step());
  EXPECT_EQ(integrity.text(0), "ok");
}

}  // namespace
}  // namespace fersweep
