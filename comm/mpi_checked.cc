#include "comm/mpi_checked.h"

#include <cstdint>

#include <fmt/format.h>

namespace fersweep::mpi {
namespace {
int rank_or_unknown() {
  int initialized = 0, finalized = 0, rank = -1;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}
}  // namespace

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  throw MpiError(fmt::format("{} failed on rank {}: {}", call, rank_or_unknown(),
                             length ? std::string(text, length) : fmt::format("error {}", rc)));
}

Session::Session(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

Session::~Session() {
  MPI_Finalize();
}

int Comm::rank() const {
  int rank = 0;
  check(MPI_Comm_rank(handle_, &rank), "MPI_Comm_rank");
  return rank;
}

int Comm::size() const {
  int size = 0;
  check(MPI_Comm_size(handle_, &size), "MPI_Comm_size");
  return size;
}

void send(const Comm& comm, int dest, int tag, const std::vector<uint8_t>& payload) {
  check(MPI_Send(payload.data(), static_cast<int>(payload.size()), MPI_BYTE, dest, tag,
                 comm.handle()),
        "MPI_Send");
}

namespace {
Envelope receive_probed(const Comm& comm, const MPI_Status& probed) {
  int count = 0;
  check(MPI_Get_count(&probed, MPI_BYTE, &count), "MPI_Get_count");
  Envelope envelope{probed.MPI_SOURCE, probed.MPI_TAG, std::vector<uint8_t>(count)};
  check(MPI_Recv(envelope.payload.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG,
                 comm.handle(), MPI_STATUS_IGNORE),
        "MPI_Recv");
  return envelope;
}
}  // namespace

Envelope receive(const Comm& comm, int source, int tag) {
  MPI_Status status;
  check(MPI_Probe(source, tag, comm.handle(), &status), "MPI_Probe");
  return receive_probed(comm, status);
}

std::optional<Envelope> try_receive(const Comm& comm, int source, int tag) {
  MPI_Status status;
  int pending = 0;
  check(MPI_Iprobe(source, tag, comm.handle(), &pending, &status), "MPI_Iprobe");
  if (!pending) return std::nullopt;
  return receive_probed(comm, status);
}

OwnedComm::~OwnedComm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  MPI_Comm handle = handle_;
  if (handle != MPI_COMM_NULL && !finalized) MPI_Comm_free(&handle);
}

OwnedComm::OwnedComm(OwnedComm&& other) noexcept : Comm(other.handle_) {
  other.handle_ = MPI_COMM_NULL;
}

std::optional<OwnedComm> split(const Comm& comm, int color, int key) {
  MPI_Comm handle = MPI_COMM_NULL;
  check(MPI_Comm_split(comm.handle(), color < 0 ? MPI_UNDEFINED : color, key, &handle),
        "MPI_Comm_split");
  if (handle == MPI_COMM_NULL) return std::nullopt;
  check(MPI_Comm_set_errhandler(handle, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  return OwnedComm(handle);
}

OwnedComm duplicate(const Comm& comm) {
  MPI_Comm handle = MPI_COMM_NULL;
  check(MPI_Comm_dup(comm.handle(), &handle), "MPI_Comm_dup");
  return OwnedComm(handle);
}

void broadcast(const Comm& comm, void* data, int bytes, int root) {
  check(MPI_Bcast(data, bytes, MPI_BYTE, root, comm.handle()), "MPI_Bcast");
}

int broadcast_int(const Comm& comm, int value, int root) {
  broadcast(comm, &value, sizeof value, root);
  return value;
}

void broadcast_bytes(const Comm& comm, std::vector<uint8_t>& bytes, int root) {
  int64_t size = static_cast<int64_t>(bytes.size());
  broadcast(comm, &size, sizeof size, root);
  bytes.resize(static_cast<size_t>(size));
  if (size > 0) broadcast(comm, bytes.data(), static_cast<int>(size), root);
}

void all_reduce_sum(const Comm& comm, std::vector<double>& values) {
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                      MPI_SUM, comm.handle()),
        "MPI_Allreduce");
}

NodePlacement node_placement(const Comm& world, bool coordinator_trains) {
  MPI_Comm node_handle;
  check(MPI_Comm_split_type(world.handle(), MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL,
                            &node_handle),
        "MPI_Comm_split_type");
  const OwnedComm node(node_handle);
  int trains = world.rank() == 0 && world.size() > 1 && !coordinator_trains ? 0 : 1;
  int total = 0, before = 0;
  check(MPI_Allreduce(&trains, &total, 1, MPI_INT, MPI_SUM, node.handle()), "MPI_Allreduce");
  check(MPI_Exscan(&trains, &before, 1, MPI_INT, MPI_SUM, node.handle()), "MPI_Exscan");
  if (node.rank() == 0) before = 0;  // MPI_Exscan leaves rank 0's result undefined
  return {total, before};
}

}  // namespace fersweep::mpi
