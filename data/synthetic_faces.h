#pragma once
// Deterministic synthetic faces with the seven FER2013 emotions. Each face is drawn from
// parametric features (brows, eyes, mouth, nose wrinkles) whose emotion prototypes are blended
// with a random intensity, on top of identity (face shape, skin, hair, resting expression),
// pose (rotation, scale, shift), lighting and sensor noise. Anger and disgust share lowered,
// inward-tilted brows and differ mostly in the mouth and nose, so, as in real data, they are the
// hardest pair. Every image is a pure function of (seed, split, index).
#include <cstdint>

#include "data/image_set.h"

namespace fersweep::data {

struct SyntheticOptions {
  int count = 0;
  int image_size = 48;
  uint64_t seed = 1;
  uint64_t split = 0;  // independent streams: 0 train, 1 validation, 2 test
  int identities = 200;
};

ImageSet generate_synthetic_faces(const SyntheticOptions& options);

}  // namespace fersweep::data
