// The terminal status block: what it says about a sweep (results/progress.h) and how it keeps
// itself under the log lines (common/status_board.h).
#include "results/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/status_board.h"
#include "results/store.h"
#include "tests/test_paths.h"

namespace fersweep::results {
namespace {

TEST(Progress, CountsTheBestBusyWorkersAndAnEta) {
  const std::string db = testing_paths::test_scratch_path("progress") + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  int64_t sweep = 0;
  {
    Store store(db);
    sweep = store.create_sweep({"watched", "random", "val_accuracy", true, 1, 10, {}});
    for (int number = 0; number < 6; ++number) {
      const int64_t id = store.add_trial(sweep, number, {{"lr", 0.01}}, number);
      store.start_trial(id, 1 + number % 2);
      if (number == 5) continue;  // still running, on rank 2
      TrialResult result;
      result.trial_id = id;
      result.status = number == 4 ? TrialStatus::kFailed : TrialStatus::kFinished;
      if (number < 4) result.final_metrics = {{"val_accuracy", 0.5 + 0.1 * number}};
      store.finish_trial(result, number < 4 ? std::optional(0.5 + 0.1 * number) : std::nullopt);
    }
  }
  const Progress progress = read_progress(Reader(db), sweep);
  EXPECT_EQ(progress.busy_workers, 1);
  ASSERT_TRUE(progress.best.has_value());
  const std::string text = progress_text(progress, 3);
  EXPECT_NE(text.find("trials: 4 finished, 1 running, 1 failed of 10"), std::string::npos) << text;
  EXPECT_NE(text.find("best val_accuracy 0.8000 (trial 4)"), std::string::npos) << text;
  EXPECT_NE(text.find("workers: 1 busy, 2 idle"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA"), std::string::npos) << text;
  EXPECT_EQ(duration_text(135), "2m15s");
  EXPECT_EQ(duration_text(7300), "2h01m");
  EXPECT_EQ(duration_text(9), "9s");
}

TEST(StatusBoard, LogLinesScrollAboveTheBlockAndCloseErasesIt) {
  std::FILE* terminal = std::tmpfile();
  ASSERT_NE(terminal, nullptr);
  {
    StatusBoard board(terminal, [] { return std::string("line one\nline two"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the first draw
    std::fputs("trial 1 finished\n", board.log());
    board.close();
    std::fputs("after close\n", board.log());
  }
  std::rewind(terminal);
  std::string out;
  char buffer[4096];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, terminal)) out.append(buffer, n);
  std::fclose(terminal);
  const std::string erase = "\r\x1b[2A\x1b[J";
  const size_t block = out.find("line one\nline two\n");
  const size_t line = out.find(erase + "trial 1 finished\nline one\nline two\n");
  ASSERT_NE(block, std::string::npos) << out;
  ASSERT_NE(line, std::string::npos) << "the block is erased, the line written, the block redrawn";
  EXPECT_LT(block, line);
  EXPECT_NE(out.rfind(erase + "after close\n"), std::string::npos) << "close erases the block";
  EXPECT_EQ(out.substr(out.size() - 12), "after close\n") << "nothing drawn after close";
}

}  // namespace
}  // namespace fersweep::results
