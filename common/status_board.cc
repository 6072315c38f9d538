#include "common/status_board.h"

#include <unistd.h>

#include <chrono>

#include "common/text.h"

namespace fersweep {

StatusBoard::StatusBoard(std::FILE* terminal, std::function<std::string()> render)
    : terminal_(terminal), render_(std::move(render)) {
  cookie_io_functions_t functions{};
  functions.write = &StatusBoard::write_log;
  log_ = fopencookie(this, "w", functions);
  if (log_) setvbuf(log_, nullptr, _IOLBF, 0);  // a line at a time: each appears above the block
  thread_ = std::thread([this] { loop(); });
}

StatusBoard::~StatusBoard() {
  close();
  if (thread_.joinable()) thread_.join();
  if (log_) std::fclose(log_);
}

bool StatusBoard::is_terminal(std::FILE* file) {
  return isatty(fileno(file)) == 1;
}

void StatusBoard::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  erase_locked();
  closed_ = true;
  wake_.notify_all();
}

ssize_t StatusBoard::write_log(void* cookie, const char* data, size_t size) {
  auto* board = static_cast<StatusBoard*>(cookie);
  std::lock_guard<std::mutex> lock(board->mutex_);
  board->erase_locked();
  std::fwrite(data, 1, size, board->terminal_);
  if (!board->closed_) board->draw_locked();
  std::fflush(board->terminal_);
  board->changed_ = true;  // what the line reports, the block should show soon
  board->wake_.notify_all();
  return static_cast<ssize_t>(size);
}

void StatusBoard::erase_locked() {
  if (lines_ == 0) return;
  // To the start of the block's first line, then clear to the end of the screen.
  std::fprintf(terminal_, "\r\x1b[%dA\x1b[J", lines_);
  lines_ = 0;
}

void StatusBoard::draw_locked() {
  if (block_.empty()) return;
  std::fputs(block_.c_str(), terminal_);
  std::fputc('\n', terminal_);
  lines_ = 1;
  for (const char c : block_) lines_ += c == '\n';
}

void StatusBoard::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!closed_) {
    lock.unlock();
    std::string next;
    try {
      next = terminal_text(render_());
    } catch (const std::exception& e) {
      next = terminal_text(std::string("status: ") + e.what());
    }
    lock.lock();
    if (closed_) break;
    erase_locked();
    block_ = std::move(next);
    draw_locked();
    std::fflush(terminal_);
    // Redrawn every second, and soon after a log line (at most five times a second).
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return closed_ || changed_; });
    changed_ = false;
    if (!closed_) wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return closed_; });
  }
}

}  // namespace fersweep
