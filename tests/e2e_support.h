#pragma once
// What the end-to-end suites share: running a command line and reading files back.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "results/sqlite.h"

namespace fersweep::e2e {

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline Outcome run(const std::string& command) {
  Outcome outcome;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return outcome;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.output.append(buffer, n);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
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

}  // namespace fersweep::e2e
