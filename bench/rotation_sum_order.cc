// Driver of bench/rotation_sum_order.sh: the same 20,000 rotations through both versions of
// data::apply_transform, alternating, best of three rounds each.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "data/batch_assembly.h"

namespace fersweep::data {
namespace stepped {
void apply_transform(const uint8_t*, int, const SampleTransform&, float*);
}
namespace summed {
void apply_transform(const uint8_t*, int, const SampleTransform&, float*);
}
}  // namespace fersweep::data

int main() {
  using namespace fersweep::data;
  constexpr int kSize = 48, kImages = 4000, kRotations = 5 * kImages;
  std::vector<uint8_t> images(static_cast<size_t>(kSize * kSize * kImages));
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  std::vector<float> out(kSize * kSize);
  double best[2] = {0, 0}, checksum = 0;
  for (int round = 0; round < 3; ++round) {
    for (int version = 0; version < 2; ++version) {
      const auto start = std::chrono::steady_clock::now();
      for (int k = 0; k < kRotations; ++k) {
        const SampleTransform t{.dx = k % 5 - 2,
                                .dy = k % 3 - 1,
                                .flip = (k & 1) != 0,
                                .angle = 0.2 * ((k % 7) - 3) / 3.0 + 1e-3};
        const uint8_t* src = images.data() + static_cast<size_t>(k % kImages) * kSize * kSize;
        (version == 0 ? stepped::apply_transform : summed::apply_transform)(src, kSize, t,
                                                                            out.data());
        checksum += out[static_cast<size_t>(k % (kSize * kSize))];
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best[version] = std::max(best[version], kRotations / seconds);
    }
  }
  std::printf("| rotation | images/s (best of 3) |\n|---|---:|\n");
  std::printf("| stepped along the row (9a0ac80) | %.0f |\n", best[0]);
  std::printf("| per-column + per-row sum (now) | %.0f |\n", best[1]);
  std::printf("ratio %.3f (checksum %.6g)\n", best[1] / best[0], checksum);
}
