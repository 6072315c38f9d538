#pragma once
// What the end-to-end suites share: running a command line and reading files back.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "results/sqlite.h"
#include "tests/command_line.h"
#include "tests/test_paths.h"

namespace fersweep::e2e {

using Outcome = testing_command::CommandResult;

// A fresh directory for one test's files, named for it and this process; and Open MPI allowed to
// start as root (CI containers run as root).
inline std::string mpi_test_dir(const std::string& name) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const std::string dir = testing_paths::process_scratch_dir() + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline Outcome run(const std::string& command) {
  return testing_command::run_command(command);
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Finished trials in a sweep database that another process may be writing (WAL: reading never
// blocks it); 0 while the database or its tables do not exist yet.
inline int64_t finished_trials(const std::string& db) {
  if (!std::filesystem::exists(db)) return 0;
  try {
    sql::Database reader(db, true);
    sql::Statement count(reader, "SELECT count(*) FROM trials WHERE status = 'finished'");
    return count.step() ? count.integer(0) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// Starts `argv` as a child process of its own (mpiexec itself, no shell in between).
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "a", stdout);
    std::freopen(log.c_str(), "a", stderr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Processes whose command line mentions `needle` (the sweep's spec path): mpiexec and the ranks.
inline std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = file_bytes(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos && cmdline.find("fersweep") != std::string::npos)
      pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

}  // namespace fersweep::e2e
