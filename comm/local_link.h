#pragma once
// The coordinator's conversation with a worker that lives in its own process (rank 0 training
// beside coordinating, `fersweep run --coordinator-trains`): the same typed messages as over MPI,
// through two in-memory queues instead, so the worker thread never calls MPI.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "comm/protocol.h"

namespace fersweep {

class MessageQueue {
 public:
  void push(protocol::Message message) {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
    }
    ready_.notify_one();
  }
  protocol::Message pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !messages_.empty(); });
    protocol::Message message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }
  std::optional<protocol::Message> try_pop() {
    std::lock_guard lock(mutex_);
    if (messages_.empty()) return std::nullopt;
    protocol::Message message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<protocol::Message> messages_;
};

// Both directions between the coordinator and its in-process worker.
struct LocalLink {
  MessageQueue to_worker;
  MessageQueue to_coordinator;
};

}  // namespace fersweep
