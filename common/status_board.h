#pragma once
// A status block kept at the bottom of a terminal: redrawn every second from `render`, with the
// lines written to log() scrolling above it. Only for a TTY; elsewhere the caller writes its log
// lines as they are.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace fersweep {

class StatusBoard {
 public:
  // `render` is called on the board's thread; it may throw (the block then shows the error) and
  // may return "" (nothing to show yet).
  StatusBoard(std::FILE* terminal, std::function<std::string()> render);
  ~StatusBoard();
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // A stream whose writes appear above the block. Valid until the board is destroyed.
  std::FILE* log() const { return log_; }
  // Erases the block and stops drawing; log() then writes straight through.
  void close();

  static bool is_terminal(std::FILE* file);

 private:
  static ssize_t write_log(void* cookie, const char* data, size_t size);
  void erase_locked();
  void draw_locked();
  void loop();

  std::FILE* terminal_;
  std::function<std::string()> render_;
  std::FILE* log_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string block_;  // what is drawn now
  int lines_ = 0;      // its height
  bool closed_ = false;
  bool changed_ = false;  // a log line came since the last render
  std::thread thread_;
};

}  // namespace fersweep
