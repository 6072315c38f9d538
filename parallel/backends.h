#pragma once
// The MPI and NCCL backends of Communicator. Both duplicate the gang's MPI communicator, so their
// collectives never interleave with the control messages on the gang's own.
#include <memory>

#include "comm/mpi_checked.h"
#include "parallel/communicator.h"

namespace fersweep::parallel {

// CPU tensors, summed with MPI_Iallreduce.
std::unique_ptr<Communicator> make_mpi_communicator(const mpi::Comm& gang);

// GPU tensors on device `cuda_device`, with NCCL; host collectives still go through MPI. Throws
// CommunicatorError where this build has no NCCL (FERSWEEP_HAVE_NCCL unset).
std::unique_ptr<Communicator> make_nccl_communicator(const mpi::Comm& gang, int cuda_device);

// Whether this build carries the NCCL backend.
bool nccl_available();

}  // namespace fersweep::parallel
