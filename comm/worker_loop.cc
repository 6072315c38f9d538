#include "comm/worker_loop.h"

#include <fmt/format.h>

#include "comm/protocol.h"

namespace fersweep {

void serve_trials(const mpi::Comm& world, TrialRunner& runner) {
  using protocol::Tag;
  constexpr int coordinator = protocol::kCoordinatorRank;
  protocol::send(world, coordinator, Tag::kReady, nlohmann::json::object());
  for (;;) {
    protocol::Message message = protocol::receive(world, coordinator);
    if (message.tag == Tag::kShutdown) return;
    if (message.tag != Tag::kAssign) {
      throw std::runtime_error(fmt::format("worker {}: expected an assignment, got tag {}",
                                           world.rank(), static_cast<int>(message.tag)));
    }
    const auto assignment = message.body.get<TrialAssignment>();
    auto report_epoch = [&](const EpochMetrics& epoch) {
      protocol::send(world, coordinator, Tag::kEpoch, epoch);
      protocol::Message reply = protocol::receive(world, coordinator);
      if (reply.tag != Tag::kDecision) {
        throw std::runtime_error(fmt::format("worker {}: expected a decision, got tag {}",
                                             world.rank(), static_cast<int>(reply.tag)));
      }
      return reply.body.at("stop").get<bool>() ? Decision::kStop : Decision::kContinue;
    };
    const TrialResult result = run_trial(runner, assignment, report_epoch);
    protocol::send(world, coordinator, Tag::kDone, result);
  }
}

}  // namespace fersweep
