#pragma once
// Scratch files that belong to one test process. CTest runs every test of a fixture as its own
// process, in parallel, and two checkouts on one machine share the temporary directory: a name
// shared by a fixture's tests lets one test's SetUp delete or create what another is using.
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

namespace fersweep::testing_paths {

// Parameterised tests have names with slashes ("Suite/Test.Case/param"): those become '_'.
inline std::string test_scratch_path(const std::string& stem) {
  const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(test->test_suite_name()) + "." + test->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return testing::TempDir() + "/fersweep_" + stem + "_" + name + "_" + std::to_string(getpid());
}

}  // namespace fersweep::testing_paths
