#pragma once
// Making a gang's communicator, through a header free of LibTorch (the CLI includes it).
#include <memory>
#include <string>

#include "comm/mpi_checked.h"

namespace fersweep::parallel {

class Communicator;

// The one place a backend is chosen: local for a gang of one rank, NCCL when `device` is a GPU
// (NCCL on that GPU), MPI for CPU tensors. Collective over `gang`; created once per gang and
// reused by all its trials.
std::shared_ptr<Communicator> make_communicator(const mpi::Comm& gang, const Device& device);

}  // namespace fersweep::parallel
