#pragma once
// Small checked wrappers over the MPI calls fersweep uses. Every failure throws MpiError naming
// the call, the rank and MPI's own error string.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

 private:
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

// How many ranks on this rank's node will train, given that world rank 0 only coordinates.
int training_ranks_on_node(const Comm& world);

}  // namespace fersweep::mpi
