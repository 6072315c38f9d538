#pragma once
// Small checked wrappers over the MPI calls fersweep uses. Every failure throws MpiError naming
// the call, the rank and MPI's own error string.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "comm/placement.h"

namespace fersweep::mpi {

class MpiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws MpiError unless rc == MPI_SUCCESS.
void check(int rc, const char* call);

// MPI_Init_thread / MPI_Finalize for the lifetime of main(). Errors are returned, not fatal, so
// the checked wrappers can report them.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

class Comm {
 public:
  explicit Comm(MPI_Comm handle) : handle_(handle) {}
  static Comm world() { return Comm(MPI_COMM_WORLD); }

  MPI_Comm handle() const { return handle_; }
  int rank() const;
  int size() const;

 protected:
  MPI_Comm handle_;
};

struct Envelope {
  int source = -1;
  int tag = -1;
  std::vector<uint8_t> payload;
};

void send(const Comm& comm, int dest, int tag, const std::vector<uint8_t>& payload);
// Blocks until a message from `source` (or any) with `tag` (or any) arrives.
Envelope receive(const Comm& comm, int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG);
// Returns at once: a pending message, or nothing.
std::optional<Envelope> try_receive(const Comm& comm, int source = MPI_ANY_SOURCE,
                                    int tag = MPI_ANY_TAG);

// A communicator this process created (MPI_Comm_split, MPI_Comm_dup); freed with it.
class OwnedComm : public Comm {
 public:
  explicit OwnedComm(MPI_Comm handle) : Comm(handle) {}
  ~OwnedComm();
  OwnedComm(OwnedComm&& other) noexcept;
  OwnedComm(const OwnedComm&) = delete;
  OwnedComm& operator=(const OwnedComm&) = delete;
  OwnedComm& operator=(OwnedComm&&) = delete;
};

// MPI_Comm_split: ranks with the same `color` form one communicator, ordered by `key`. Collective
// over `comm`; a rank passing a negative color takes part and gets nothing.
std::optional<OwnedComm> split(const Comm& comm, int color, int key);
OwnedComm duplicate(const Comm& comm);

// Collectives on small host data, for agreements and control.
void broadcast(const Comm& comm, void* data, int bytes, int root);
int broadcast_int(const Comm& comm, int value, int root);
// `bytes` is resized on the receivers.
void broadcast_bytes(const Comm& comm, std::vector<uint8_t>& bytes, int root);
// Element-wise sum over the ranks, in place.
void all_reduce_sum(const Comm& comm, std::vector<double>& values);

// Where this rank sits among the ranks that train on its node (world rank 0 only coordinates,
// unless it is the only rank or `coordinator_trains`). Collective over `world`.
NodePlacement node_placement(const Comm& world, bool coordinator_trains = false);

}  // namespace fersweep::mpi
