#include "parallel/gang.h"

#include <fmt/format.h>

#include "parallel/backends.h"

namespace fersweep::parallel {

std::shared_ptr<Communicator> make_communicator(const mpi::Comm& gang, const std::string& device) {
  if (gang.size() == 1) return make_local_communicator();
  const torch::Device parsed(device);
  if (parsed.is_cuda()) {
    if (!nccl_available()) {
      throw CommunicatorError(
          fmt::format("a gang of {} ranks on {} needs the NCCL backend, and this build has none",
                      gang.size(), device));
    }
    return make_nccl_communicator(gang, parsed.has_index() ? parsed.index() : 0);
  }
  return make_mpi_communicator(gang);
}

}  // namespace fersweep::parallel
