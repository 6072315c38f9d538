#include "comm/mpi_checked.h"

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

int training_ranks_on_node(const Comm& world) {
  MPI_Comm node;
  check(MPI_Comm_split_type(world.handle(), MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  int trains = world.rank() == 0 && world.size() > 1 ? 0 : 1;
  int total = 0;
  const int rc = MPI_Allreduce(&trains, &total, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  check(rc, "MPI_Allreduce");
  return total;
}

}  // namespace fersweep::mpi
