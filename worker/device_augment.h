#pragma once
// Training augmentation made on the images' own device (a GPU; the CPU in tests): the pixels
// data::assemble_batch makes on the host, from the same random draws, which stay on the host and
// cross as one small table per batch. Bit for bit the host's, except that contrast's image mean
// is summed in another order (a difference in the last bits of a double).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "common/random.h"
#include "data/batch_assembly.h"

namespace fersweep::worker {

struct SampleDraws {
  data::SampleTransform transform;
  data::Erasure erasure;
};

// What data::assemble_batch draws for `count` successive samples of `size`×`size` images.
std::vector<SampleDraws> draw_samples(const data::Augmentation& augmentation, int size,
                                      int64_t count, Rng& rng);

// `images`: uint8 [n, S, S] on the device, `draws`: n entries. Returns float [n, 1, S, S],
// augmented and normalised as the host would have made it.
torch::Tensor augment_on_device(const torch::Tensor& images, const std::vector<SampleDraws>& draws,
                                const data::Augmentation& augmentation);

}  // namespace fersweep::worker
