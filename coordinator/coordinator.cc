#include "coordinator/coordinator.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "comm/protocol.h"

namespace fersweep::coordinator {
namespace {

// Blocking MPI receives spin a core; on a small node that core belongs to a worker. Poll with a
// backoff instead: sub-millisecond latency under load, near-zero CPU while trials run.
protocol::Message wait_for_message(const mpi::Comm& world) {
  auto pause = std::chrono::microseconds(50);
  constexpr auto kLongestPause = std::chrono::milliseconds(20);
  for (;;) {
    if (auto message = protocol::poll(world)) return std::move(*message);
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, kLongestPause);
  }
}

}  // namespace

std::vector<int> gang_leaders(int world_size, int gang_size) {
  std::vector<int> leaders;
  for (int rank = 1; rank + gang_size - 1 < world_size; rank += gang_size) leaders.push_back(rank);
  return leaders;
}

void coordinate(const mpi::Comm& world, int gang_size, SweepDriver& driver) {
  using protocol::Tag;
  auto workers_left = static_cast<int>(gang_leaders(world.size(), gang_size).size());

  auto give_work = [&](int rank) {
    if (auto assignment = driver.next_assignment()) {
      driver.trial_started(assignment->trial_id, rank);
      protocol::send(world, rank, Tag::kAssign, *assignment);
    } else {
      protocol::send(world, rank, Tag::kShutdown, nlohmann::json::object());
      --workers_left;
    }
  };

  while (workers_left > 0) {
    protocol::Message message = wait_for_message(world);
    switch (message.tag) {
      case Tag::kReady:
        give_work(message.source);
        break;
      case Tag::kEpoch: {
        const auto epoch = message.body.get<EpochMetrics>();
        const bool stop = driver.epoch_reported(epoch) == Decision::kStop;
        protocol::send(world, message.source, Tag::kDecision, {{"stop", stop}});
        break;
      }
      case Tag::kDone:
        driver.trial_done(message.body.get<TrialResult>());
        give_work(message.source);
        break;
      default:
        throw std::runtime_error(fmt::format("coordinator: unexpected tag {} from rank {}",
                                             static_cast<int>(message.tag), message.source));
    }
  }
}

void release_workers(const mpi::Comm& world, int gang_size) {
  for (int rank : gang_leaders(world.size(), gang_size)) {
    protocol::send(world, rank, protocol::Tag::kShutdown, nlohmann::json::object());
  }
}

void run_in_process(SweepDriver& driver, TrialRunner& runner) {
  while (auto assignment = driver.next_assignment()) {
    driver.trial_started(assignment->trial_id, 0);
    const TrialResult result = run_trial(runner, *assignment, [&](const EpochMetrics& epoch) {
      return driver.epoch_reported(epoch);
    });
    driver.trial_done(result);
  }
}

}  // namespace fersweep::coordinator
