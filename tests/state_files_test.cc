// The files of a trial's training state: one per epoch under a run-specific name, put in place by
// a rename, the previous one gone once the coordinator has the newer, the last one left for the
// coordinator to remove once it has stored the trial's end.
#include "common/state_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include "tests/test_paths.h"

namespace fersweep {
namespace {

namespace fs = std::filesystem;

class StateFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_paths::test_scratch_path("state_files");
    fs::remove_all(dir_);
    assignment_.trial_id = 7;
    assignment_.state_dir = dir_.string();
  }
  // Writes epoch `epoch`'s state the way a runner does: the temporary name, then commit().
  static StateRef write(TrialStateFiles& files, int epoch, const std::string& text) {
    std::ofstream(files.temporary_path(epoch), std::ios::binary) << text;
    return files.commit(epoch);
  }
  static std::vector<std::string> names(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
  TrialAssignment assignment_;
};

TEST_F(StateFilesTest, KeepsOnlyWhatTheCoordinatorMayStillNeed) {
  {
    TrialStateFiles files(assignment_);
    const StateRef first = write(files, 1, "one");
    EXPECT_EQ(first.path, (dir_ / "trial_000007.r0.e0001.state").string());
    EXPECT_EQ(first.epoch, 1);
    EXPECT_EQ(first.digest, *file_digest(first.path));
    write(files, 2, "two");
    // Until the coordinator has stored epoch 2, epoch 1's state is the one it knows.
    EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000007.r0.e0001.state",
                                                     "trial_000007.r0.e0002.state"}));
    files.acknowledged(2);
    EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000007.r0.e0002.state"}));
  }
  // Paused or ended, the run leaves the state the database names.
  EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000007.r0.e0002.state"}));

  // The continuation is run 1: its files never clash with run 0's, and once it has stored an
  // epoch of its own the state it continued from goes; when the trial's end is stored, the
  // coordinator removes what is left, of every run.
  assignment_.run = 1;
  assignment_.resume = {(dir_ / "trial_000007.r0.e0002.state").string(), 2, 0};
  {
    TrialStateFiles files(assignment_);
    write(files, 3, "three");
    EXPECT_EQ(names(dir_).size(), 2u);
    files.acknowledged(3);
    EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000007.r1.e0003.state"}));
  }
  EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000007.r1.e0003.state"}));
  std::ofstream(dir_ / "trial_000008.r0.e0001.state") << "another trial's";
  EXPECT_EQ(remove_trial_states(dir_.string(), {7}), 1);
  EXPECT_EQ(names(dir_), (std::vector<std::string>{"trial_000008.r0.e0001.state"}));
}

TEST_F(StateFilesTest, WithoutADirectoryNothingIsWrittenOrRemoved) {
  assignment_.state_dir.clear();
  TrialStateFiles files(assignment_);
  EXPECT_FALSE(files.enabled());
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(StateFilesTest, DigestTellsFilesApartAndMissingOnesAreNothing) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "a") << "same bytes";
  std::ofstream(dir_ / "b") << "same bytes";
  std::ofstream(dir_ / "c") << "same byteS";
  EXPECT_EQ(file_digest((dir_ / "a").string()), file_digest((dir_ / "b").string()));
  EXPECT_NE(file_digest((dir_ / "a").string()), file_digest((dir_ / "c").string()));
  EXPECT_EQ(file_digest((dir_ / "missing").string()), std::nullopt);
  // FNV-1a's published value for the empty input.
  std::ofstream(dir_ / "empty");
  EXPECT_EQ(file_digest((dir_ / "empty").string()), 0xcbf29ce484222325ULL);
}

}  // namespace
}  // namespace fersweep
