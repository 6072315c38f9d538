#include "comm/protocol.h"

#include <cstdint>

#include <fmt/format.h>

namespace fersweep::protocol {
namespace {
Message decode(mpi::Envelope envelope) {
  if (envelope.tag < static_cast<int>(Tag::kReady) || envelope.tag > static_cast<int>(Tag::kDone)) {
    throw std::runtime_error(fmt::format("protocol: unknown message tag {} from rank {}",
                                         envelope.tag, envelope.source));
  }
  Message message{envelope.source, static_cast<Tag>(envelope.tag), {}};
  try {
    message.body = nlohmann::json::from_msgpack(envelope.payload);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("protocol: undecodable payload (tag {}) from rank {}: {}",
                                         envelope.tag, envelope.source, e.what()));
  }
  return message;
}
}  // namespace

void send(const mpi::Comm& comm, int dest, Tag tag, const nlohmann::json& body) {
  mpi::send(comm, dest, static_cast<int>(tag), nlohmann::json::to_msgpack(body));
}

Message receive(const mpi::Comm& comm, int source) {
  return decode(mpi::receive(comm, source));
}

std::optional<Message> poll(const mpi::Comm& comm) {
  auto envelope = mpi::try_receive(comm);
  if (!envelope) return std::nullopt;
  return decode(std::move(*envelope));
}

std::vector<uint8_t> encode(const GangMessage& message) {
  std::vector<uint8_t> bytes{static_cast<uint8_t>(message.tag)};
  const std::vector<uint8_t> body = nlohmann::json::to_msgpack(message.body);
  bytes.insert(bytes.end(), body.begin(), body.end());
  return bytes;
}

GangMessage decode_gang_message(const std::vector<uint8_t>& bytes) {
  if (bytes.empty() || bytes[0] < static_cast<uint8_t>(GangTag::kAssign) ||
      bytes[0] > static_cast<uint8_t>(GangTag::kShutdown)) {
    throw std::runtime_error(fmt::format("gang protocol: unknown message tag {}",
                                         bytes.empty() ? -1 : static_cast<int>(bytes[0])));
  }
  GangMessage message{static_cast<GangTag>(bytes[0])};
  try {
    message.body = nlohmann::json::from_msgpack(bytes.begin() + 1, bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("gang protocol: undecodable body (tag {}): {}",
                                         static_cast<int>(bytes[0]), e.what()));
  }
  return message;
}

}  // namespace fersweep::protocol
