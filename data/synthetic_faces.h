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

// kClose fills the frame with the face, as FER2013 does; kWide shows a smaller face with
// shoulders and a textured background, as JAFFE's 256x256 photographs do.
enum class Framing { kClose, kWide };

struct SyntheticOptions {
  int count = 0;
  int image_size = 48;
  uint64_t seed = 1;
  uint64_t split = 0;  // independent streams: 0 train, 1 validation, 2 test
  int identities = 200;
  Framing framing = Framing::kClose;
  // Share of Disgust draws kept (the rest are drawn again), for FER2013's rare disgust (~1.5 %).
  double disgust_keep = 1.0;
  // When not empty: each image's label and person, given rather than drawn (count ignored).
  std::vector<int> labels, people;
};

ImageSet generate_synthetic_faces(const SyntheticOptions& options);

}  // namespace fersweep::data
