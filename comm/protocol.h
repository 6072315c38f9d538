#pragma once
// Typed messages between the coordinator (world rank 0) and workers. The MPI tag says what a
// message is; the payload is the matching struct from common/trial.h encoded as MessagePack.
// The conversation itself is documented at the top of coordinator/coordinator.h.
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "comm/mpi_checked.h"
#include "common/trial.h"

namespace fersweep::protocol {

inline constexpr int kCoordinatorRank = 0;

enum class Tag : int {
  kReady = 1,     // worker -> coordinator: idle, send work. Body: {}
  kAssign = 2,    // coordinator -> worker: TrialAssignment
  kShutdown = 3,  // coordinator -> worker: no more work, leave. Body: {}
  kEpoch = 4,     // worker -> coordinator: EpochMetrics; the worker then waits for kDecision
  kDecision = 5,  // coordinator -> worker: {"decision": "continue" | "stop" | "pause",
                  //   "report_allowance": seconds the next epoch may take (optional)}
  kDone = 6,      // worker -> coordinator: TrialResult; also means "idle again"
};

struct Message {
  int source = -1;
  Tag tag = Tag::kReady;
  nlohmann::json body;
};

void send(const mpi::Comm& comm, int dest, Tag tag, const nlohmann::json& body);
// Throws std::runtime_error on an unknown tag or an undecodable payload.
Message receive(const mpi::Comm& comm, int source = MPI_ANY_SOURCE);
std::optional<Message> poll(const mpi::Comm& comm);

// A gang's sub-protocol: its leader relays the coordinator's word to the other ranks of the gang,
// one broadcast each (comm/worker_loop.h).
enum class GangTag : uint8_t {
  kAssign = 1,    // TrialAssignment: the trial the gang trains next
  kVerdict = 2,   // after each epoch: {"decision": ..., "error": text}; an error fails the trial
  kOver = 3,      // the leader has left the trial. Body: {}
  kShutdown = 4,  // no more trials, leave. Body: {}
};

struct GangMessage {
  GangTag tag = GangTag::kShutdown;
  nlohmann::json body = nlohmann::json::object();
};

// The tag's byte, then the body as MessagePack.
std::vector<uint8_t> encode(const GangMessage& message);
// Throws std::runtime_error on an unknown tag or an undecodable body.
GangMessage decode_gang_message(const std::vector<uint8_t>& bytes);

}  // namespace fersweep::protocol
