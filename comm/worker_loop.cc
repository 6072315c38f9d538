#include "comm/worker_loop.h"

#include <cstdint>

#include <fmt/format.h>

#include "comm/local_link.h"
#include "comm/protocol.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;
using protocol::Tag;
constexpr int kCoordinator = protocol::kCoordinatorRank;

using protocol::GangMessage;
using protocol::GangTag;

// The leader's word to its gang (protocol::GangTag), one broadcast each.
class GangChannel {
 public:
  GangChannel() = default;  // no gang: a worker alone
  explicit GangChannel(const mpi::Comm& gang) : gang_(&gang), size_(gang.size()) {}
  bool alone() const { return size_ == 1; }
  void tell(GangTag tag, Json body = Json::object()) const {
    if (alone()) return;
    std::vector<uint8_t> bytes = protocol::encode(GangMessage{tag, std::move(body)});
    mpi::broadcast_bytes(*gang_, bytes, 0);
  }
  GangMessage hear() const {
    std::vector<uint8_t> bytes;
    mpi::broadcast_bytes(*gang_, bytes, 0);
    return protocol::decode_gang_message(bytes);
  }

 private:
  const mpi::Comm* gang_ = nullptr;
  int size_ = 1;
};

// How a gang leader talks to the coordinator: over MPI, or in-process.
class CoordinatorLink {
 public:
  virtual ~CoordinatorLink() = default;
  virtual void send(Tag tag, const Json& body) = 0;
  virtual protocol::Message receive() = 0;
};

class MpiLink final : public CoordinatorLink {
 public:
  explicit MpiLink(const mpi::Comm& world) : world_(world) {}
  void send(Tag tag, const Json& body) override { protocol::send(world_, kCoordinator, tag, body); }
  protocol::Message receive() override { return protocol::receive(world_, kCoordinator); }

 private:
  const mpi::Comm& world_;
};

class InProcessLink final : public CoordinatorLink {
 public:
  explicit InProcessLink(LocalLink& link) : link_(link) {}
  void send(Tag tag, const Json& body) override {
    link_.to_coordinator.push({kCoordinator, tag, body});
  }
  protocol::Message receive() override { return link_.to_worker.pop(); }

 private:
  LocalLink& link_;
};

// In a gang the leader alone keeps the clock: it enforces the time limit for all ranks through
// its verdicts, so no rank leaves a trial the others are still in.
constexpr bool kOwnClock = true;
constexpr bool kLeadersClock = false;

void lead(CoordinatorLink& coordinator, int rank, const GangChannel& gang, TrialRunner& runner) {
  coordinator.send(Tag::kReady, Json::object());
  for (;;) {
    protocol::Message message = coordinator.receive();
    if (message.tag == Tag::kShutdown) {
      gang.tell(GangTag::kShutdown);
      return;
    }
    if (message.tag != Tag::kAssign) {
      throw std::runtime_error(fmt::format("worker {}: expected an assignment, got tag {}", rank,
                                           static_cast<int>(message.tag)));
    }
    auto assignment = message.body.get<TrialAssignment>();
    if (!gang.alone() && !assignment.costs) {
      // Measured once, here: latency differs between ranks, and the gang must agree on whether
      // the trial is feasible. A config that cannot even be measured fails alike on every rank.
      try {
        assignment.costs = runner.measure_costs(assignment);
      } catch (const std::exception&) {
      }
    }
    gang.tell(GangTag::kAssign, assignment);
    const auto start = std::chrono::steady_clock::now();
    auto report_epoch = [&](const EpochMetrics& epoch) -> EpochVerdict {
      coordinator.send(Tag::kEpoch, epoch);
      protocol::Message reply = coordinator.receive();
      if (reply.tag != Tag::kDecision) {
        throw std::runtime_error(fmt::format("worker {}: expected a decision, got tag {}", rank,
                                             static_cast<int>(reply.tag)));
      }
      const std::string decision = reply.body.at("decision");
      const EpochVerdict verdict(enum_from_name<Decision>(decision, "decision"),
                                 reply.body.value("report_allowance", 0.0));
      if (gang.alone()) return verdict;
      const std::string error = time_limit_exceeded(assignment, start, epoch.epoch).value_or("");
      gang.tell(GangTag::kVerdict, {{"decision", decision}, {"error", error}});
      if (!error.empty()) throw std::runtime_error(error);
      return verdict;
    };
    const TrialResult result =
        run_trial(runner, assignment, report_epoch, gang.alone() ? kOwnClock : kLeadersClock);
    gang.tell(GangTag::kOver);
    coordinator.send(Tag::kDone, result);
  }
}

void follow(const mpi::Comm& world, const GangChannel& gang, TrialRunner& runner) {
  for (;;) {
    const GangMessage message = gang.hear();
    if (message.tag == GangTag::kShutdown) return;
    if (message.tag != GangTag::kAssign) {
      throw std::runtime_error(
          fmt::format("worker {}: expected an assignment from the gang leader, got tag {}",
                      world.rank(), static_cast<int>(message.tag)));
    }
    auto assignment = message.body.get<TrialAssignment>();
    assignment.report_allowance_seconds = 0;  // the leader's clock decides for the gang
    bool leader_left = false;
    auto obey_verdict = [&](const EpochMetrics&) {
      const GangMessage verdict = gang.hear();
      if (verdict.tag == GangTag::kOver) {
        leader_left = true;
        throw std::runtime_error("the gang leader left the trial before this rank did");
      }
      const std::string error = verdict.body.at("error");
      if (!error.empty()) throw std::runtime_error(error);
      return enum_from_name<Decision>(verdict.body.at("decision").get<std::string>(), "decision");
    };
    // The leader reports the gang's result; a member's own is only needed to keep in step.
    run_trial(runner, assignment, obey_verdict, kLeadersClock);
    if (!leader_left && gang.hear().tag != GangTag::kOver) {
      throw std::runtime_error(fmt::format(
          "worker {}: the gang leader went on while this rank left the trial", world.rank()));
    }
  }
}

}  // namespace

void serve_trials(const mpi::Comm& world, const mpi::Comm& gang, TrialRunner& runner) {
  const GangChannel channel(gang);
  if (gang.rank() == 0) {
    MpiLink coordinator(world);
    lead(coordinator, world.rank(), channel, runner);
  } else {
    follow(world, channel, runner);
  }
}

void serve_trials_locally(LocalLink& link, TrialRunner& runner) {
  const GangChannel no_gang;
  InProcessLink coordinator(link);
  lead(coordinator, kCoordinator, no_gang, runner);
}

}  // namespace fersweep
