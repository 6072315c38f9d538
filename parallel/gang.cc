#include "parallel/gang.h"

#include <fmt/format.h>

#include "parallel/backends.h"

namespace fersweep::parallel {

std::shared_ptr<Communicator> make_communicator(const mpi::Comm& gang, const Device& device) {
  if (gang.size() == 1) return make_local_communicator();
  if (device.is_cuda()) {
    if (!nccl_available()) {
      throw CommunicatorError(
          fmt::format("a gang of {} ranks on {} needs the NCCL backend, and this build has none",
                      gang.size(), device.to_string()));
    }
    return make_nccl_communicator(gang, device.index);
  }
  return make_mpi_communicator(gang);
}

}  // namespace fersweep::parallel
