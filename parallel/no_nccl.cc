// Stands in for nccl_communicator.cc where the build found no nccl.h / CUDA runtime.
#include "parallel/backends.h"

namespace fersweep::parallel {

std::unique_ptr<Communicator> make_nccl_communicator(const mpi::Comm&, int) {
  throw CommunicatorError(
      "NCCL communicator: this build has no NCCL (configure with nccl.h and the CUDA runtime "
      "present; see docs/PARALLEL.md)");
}

bool nccl_available() {
  return false;
}

}  // namespace fersweep::parallel
