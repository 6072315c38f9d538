#pragma once
// Scratch files that belong to one test process. CTest runs every test of a fixture as its own
// process, in parallel, and two checkouts on one machine share the temporary directory: a name
// shared by a fixture's tests lets one test's SetUp delete or create what another is using.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace fersweep::testing_paths {

// One directory per test process, removed when the process exits normally with every test passed
// (a failing test's files stay, under the name its output shows, to be looked at). Tests used to
// leave their databases beside each other in the temporary directory: thousands of files after a
// few runs of the suite on one machine.
class ProcessScratch {
 public:
  ProcessScratch() : dir_(testing::TempDir() + "/fersweep_test_" + std::to_string(getpid())) {
    std::filesystem::remove_all(dir_);  // a recycled pid's leftovers
    std::filesystem::create_directories(dir_);
  }
  ~ProcessScratch() {
    if (getpid() != owner_) return;  // a forked child (a death test) leaves it to its parent
    if (!testing::UnitTest::GetInstance()->Passed()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ProcessScratch(const ProcessScratch&) = delete;
  ProcessScratch& operator=(const ProcessScratch&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  pid_t owner_ = getpid();
};

inline const std::string& process_scratch_dir() {
  static const ProcessScratch scratch;
  return scratch.dir();
}

// Parameterised tests have names with slashes ("Suite/Test.Case/param"): those become '_'.
inline std::string test_scratch_path(const std::string& stem) {
  const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(test->test_suite_name()) + "." + test->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return process_scratch_dir() + "/" + stem + "_" + name;
}

}  // namespace fersweep::testing_paths
