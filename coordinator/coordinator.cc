#include "coordinator/coordinator.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "comm/protocol.h"

namespace fersweep::coordinator {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Blocking MPI receives spin a core; on a small node that core belongs to a worker. Poll briefly
// without sleeping (replies to a fast worker come within microseconds), then with a backoff:
// microsecond latency under load, near-zero CPU while trials run. The backoff stops at 1 ms:
// a worker waits on its decision for the whole pause, and with 20 ms each reported epoch cost
// its worker 37 ms (bench/epoch_round_trip.py); 1,000 idle wake-ups a second cost no measurable
// CPU. Returns nothing after `longest`, so the caller can watch its deadlines.
std::optional<protocol::Message> wait_for_message(const mpi::Comm& world, LocalLink* local,
                                                  Clock::duration longest) {
  const auto start = Clock::now();
  const auto until = start + longest;
  const auto spin_until = start + std::chrono::microseconds(200);
  auto pause = std::chrono::microseconds(50);
  constexpr auto kLongestPause = std::chrono::milliseconds(1);
  for (;;) {
    if (auto message = protocol::poll(world)) return message;
    if (local) {
      if (auto message = local->to_coordinator.try_pop()) return message;
    }
    const auto now = Clock::now();
    if (now >= until) return std::nullopt;
    if (now < spin_until) {
      std::this_thread::yield();
      continue;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, kLongestPause);
  }
}

// A worker with a trial, and when it last spoke.
struct Busy {
  int64_t trial_id = 0;
  Clock::time_point last_heard;
  std::optional<Clock::time_point> lost_since;  // silent past the progress deadline
};

// Marks the workers silent past `deadline` while running a trial as lost (their trials run again
// elsewhere). Returns how many are lost for good: all the workers left, each silent another
// deadline since it was marked; 0 while any worker is still in play.
int watch_deadline(std::map<int, Busy>& busy, int workers_left, double deadline,
                   SweepDriver& driver, Clock::time_point now) {
  for (auto& [rank, worker] : busy) {
    const double silent = seconds_between(worker.last_heard, now);
    if (worker.lost_since || silent <= deadline) continue;
    worker.lost_since = now;
    driver.trial_lost(worker.trial_id,
                      fmt::format("lost: rank {} reported nothing for {:.1f} s "
                                  "(failures.progress_deadline is {} s); run again",
                                  rank, silent, deadline));
  }
  const auto lost = static_cast<int>(
      std::count_if(busy.begin(), busy.end(), [](const auto& b) { return b.second.lost_since; }));
  const bool gone_for_good = std::all_of(busy.begin(), busy.end(), [&](const auto& b) {
    return !b.second.lost_since || seconds_between(*b.second.lost_since, now) > deadline;
  });
  return lost > 0 && lost == workers_left && gone_for_good ? lost : 0;
}

}  // namespace

std::vector<int> gang_leaders(int world_size, int gang_size) {
  std::vector<int> leaders;
  for (int rank = 1; rank + gang_size - 1 < world_size; rank += gang_size) leaders.push_back(rank);
  return leaders;
}

int coordinate(const mpi::Comm& world, int gang_size, SweepDriver& driver, LocalLink* local) {
  using protocol::Tag;
  auto workers_left =
      static_cast<int>(gang_leaders(world.size(), gang_size).size()) + (local ? 1 : 0);
  auto send = [&](int rank, Tag tag, const nlohmann::json& body) {
    if (rank == protocol::kCoordinatorRank) {
      local->to_worker.push({rank, tag, body});
    } else {
      protocol::send(world, rank, tag, body);
    }
  };
  std::map<int, Busy> busy;  // by rank
  std::set<int> parked;      // idle, waiting for a paused trial's promotion
  const double deadline = driver.progress_deadline();

  auto give_work = [&](int rank) {
    busy.erase(rank);
    if (auto assignment = driver.next_assignment()) {
      driver.trial_started(assignment->trial_id, rank);
      busy[rank] = Busy{assignment->trial_id, Clock::now(), std::nullopt};
      send(rank, Tag::kAssign, *assignment);
    } else if (driver.may_have_work_later()) {
      parked.insert(rank);
    } else {
      send(rank, Tag::kShutdown, nlohmann::json::object());
      --workers_left;
    }
  };
  // A trial that paused at a rung or ended, or a lost worker's, may be work for a parked worker.
  auto wake_parked = [&] {
    std::set<int> waiting;
    std::swap(waiting, parked);
    for (const int rank : waiting) give_work(rank);  // work, park again, or leave
  };
  while (workers_left > 0) {
    const std::optional<protocol::Message> message =
        wait_for_message(world, local, std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (message) {
      const int rank = message->source;
      auto worker = busy.find(rank);
      // A lost worker that speaks again is back; what it says of its abandoned trial is dropped.
      const bool stale = worker != busy.end() && worker->second.lost_since.has_value();
      if (worker != busy.end()) worker->second.last_heard = now;
      switch (message->tag) {
        case Tag::kReady:
          give_work(rank);
          break;
        case Tag::kEpoch: {
          // A lost worker's late epoch is not stored; it stops, and its trial runs elsewhere.
          nlohmann::json reply = {{"decision", to_string(Decision::kStop)}};
          if (!stale) {
            const EpochVerdict verdict = driver.epoch_reported(message->body.get<EpochMetrics>());
            reply["decision"] = to_string(verdict.decision);
            if (verdict.next_report_allowance > 0) {
              reply["report_allowance"] = verdict.next_report_allowance;
            }
          }
          send(rank, Tag::kDecision, reply);
          break;
        }
        case Tag::kDone:
          if (!stale) driver.trial_done(message->body.get<TrialResult>());
          give_work(rank);
          break;
        default:
          throw std::runtime_error(fmt::format("coordinator: unexpected tag {} from rank {}",
                                               static_cast<int>(message->tag), rank));
      }
    }
    if (!parked.empty()) wake_parked();
    if (deadline <= 0) continue;
    // Only lost workers remain, and none came back within another deadline: stop waiting.
    if (const int lost = watch_deadline(busy, workers_left, deadline, driver, now)) return lost;
  }
  return 0;
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
