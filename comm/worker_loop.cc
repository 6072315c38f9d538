#include "comm/worker_loop.h"

#include <fmt/format.h>

#include "comm/protocol.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;
using protocol::Tag;
constexpr int kCoordinator = protocol::kCoordinatorRank;

// The leader's word to its gang, one broadcast each: {"kind": "assign", "assignment": ...},
// {"kind": "verdict", "stop": bool, "error": text} after each epoch, {"kind": "over"} once the
// leader has left a trial, and {"kind": "shutdown"}.
class GangChannel {
 public:
  explicit GangChannel(const mpi::Comm& gang) : gang_(gang) {}
  bool alone() const { return gang_.size() == 1; }
  void tell(const Json& message) const {
    if (alone()) return;
    std::vector<uint8_t> bytes = Json::to_msgpack(message);
    mpi::broadcast_bytes(gang_, bytes, 0);
  }
  Json hear() const {
    std::vector<uint8_t> bytes;
    mpi::broadcast_bytes(gang_, bytes, 0);
    return Json::from_msgpack(bytes);
  }

 private:
  const mpi::Comm& gang_;
};

// In a gang the leader alone keeps the clock: it enforces the time limit for all ranks through
// its verdicts, so no rank leaves a trial the others are still in.
constexpr bool kOwnClock = true;
constexpr bool kLeadersClock = false;

void lead(const mpi::Comm& world, const GangChannel& gang, TrialRunner& runner) {
  protocol::send(world, kCoordinator, Tag::kReady, Json::object());
  for (;;) {
    protocol::Message message = protocol::receive(world, kCoordinator);
    if (message.tag == Tag::kShutdown) {
      gang.tell({{"kind", "shutdown"}});
      return;
    }
    if (message.tag != Tag::kAssign) {
      throw std::runtime_error(fmt::format("worker {}: expected an assignment, got tag {}",
                                           world.rank(), static_cast<int>(message.tag)));
    }
    gang.tell({{"kind", "assign"}, {"assignment", message.body}});
    const auto assignment = message.body.get<TrialAssignment>();
    const auto start = std::chrono::steady_clock::now();
    auto report_epoch = [&](const EpochMetrics& epoch) {
      protocol::send(world, kCoordinator, Tag::kEpoch, epoch);
      protocol::Message reply = protocol::receive(world, kCoordinator);
      if (reply.tag != Tag::kDecision) {
        throw std::runtime_error(fmt::format("worker {}: expected a decision, got tag {}",
                                             world.rank(), static_cast<int>(reply.tag)));
      }
      const bool stop = reply.body.at("stop").get<bool>();
      if (gang.alone()) return stop ? Decision::kStop : Decision::kContinue;
      const std::string error = time_limit_exceeded(assignment, start, epoch.epoch).value_or("");
      gang.tell({{"kind", "verdict"}, {"stop", stop}, {"error", error}});
      if (!error.empty()) throw std::runtime_error(error);
      return stop ? Decision::kStop : Decision::kContinue;
    };
    const TrialResult result =
        run_trial(runner, assignment, report_epoch, gang.alone() ? kOwnClock : kLeadersClock);
    gang.tell({{"kind", "over"}});
    protocol::send(world, kCoordinator, Tag::kDone, result);
  }
}

void follow(const mpi::Comm& world, const GangChannel& gang, TrialRunner& runner) {
  for (;;) {
    Json message = gang.hear();
    const std::string kind = message.at("kind");
    if (kind == "shutdown") return;
    if (kind != "assign") {
      throw std::runtime_error(
          fmt::format("worker {}: expected an assignment from the gang leader, got \"{}\"",
                      world.rank(), kind));
    }
    const auto assignment = message.at("assignment").get<TrialAssignment>();
    bool leader_left = false;
    auto obey_verdict = [&](const EpochMetrics&) {
      Json verdict = gang.hear();
      if (verdict.at("kind") == "over") {
        leader_left = true;
        throw std::runtime_error("the gang leader left the trial before this rank did");
      }
      const std::string error = verdict.at("error");
      if (!error.empty()) throw std::runtime_error(error);
      return verdict.at("stop").get<bool>() ? Decision::kStop : Decision::kContinue;
    };
    // The leader reports the gang's result; a member's own is only needed to keep in step.
    run_trial(runner, assignment, obey_verdict, kLeadersClock);
    if (!leader_left && gang.hear().at("kind") != "over") {
      throw std::runtime_error(fmt::format(
          "worker {}: the gang leader went on while this rank left the trial", world.rank()));
    }
  }
}

}  // namespace

void serve_trials(const mpi::Comm& world, const mpi::Comm& gang, TrialRunner& runner) {
  const GangChannel channel(gang);
  if (gang.rank() == 0) {
    lead(world, channel, runner);
  } else {
    follow(world, channel, runner);
  }
}

}  // namespace fersweep
