#pragma once
// Training batches from a resident uint8 image set: the epoch's order (shuffled or class-balanced)
// and per-sample augmentation, written straight into one caller-owned float buffer per batch. Plain
// C++ so that it can run on a helper thread beside LibTorch's intra-op pool, with no per-sample
// allocation.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/random.h"
#include "data/image_set.h"

namespace fersweep::data {

// Per-sample training augmentation (docs/DATA.md#augmentation). Ranges follow torchvision's
// RandomAffine / ColorJitter / RandomErasing.
struct Augmentation {
  bool enabled = false;   // false: images pass through, only normalised
  bool flip = true;       // horizontal flip with probability 1/2
  int shift = 2;          // translation of up to +-shift pixels per axis, edges replicated
  double rotation = 0;    // degrees: angle uniform in [-rotation, rotation], bilinear
  double brightness = 0;  // intensity scaled by a factor uniform in [max(0, 1-b), 1+b]
  double contrast = 0;    // distance from the image mean scaled likewise
  double erasing = 0;     // probability of erasing one rectangle (2-33 % of the area) to 0
};

enum class Sampling {
  kShuffle,   // every image once per epoch, in a fresh random order
  kBalanced,  // as many draws as images, each a uniform class, then a uniform image of it
};

// The image indices of one epoch. kBalanced needs the labels' class count.
std::vector<int64_t> epoch_order(const ImageSet& set, Sampling sampling, Rng& rng);

// Inverse-frequency weights n / (k * n_c) per class (0 for classes with no images), as
// scikit-learn's class_weight="balanced".
std::vector<double> balanced_class_weights(const ImageSet& set);

// Writes images[indices] into `out` ([n, size, size] floats, normalised as (v - 127.5) / 64) and
// their labels into `labels`. Random draws come from `rng` in sample order, so a run repeats
// exactly whichever thread assembles it.
void assemble_batch(const ImageSet& set, std::span<const int64_t> indices,
                    const Augmentation& augmentation, Rng& rng, float* out, int64_t* labels);

// One sample's drawn augmentation. Exposed so tests can apply exact transforms.
struct SampleTransform {
  int dx = 0, dy = 0;  // source offset in pixels
  bool flip = false;
  double angle = 0;  // radians, about the image centre
  double brightness = 1, contrast = 1;
};

// One sample's random augmentation, drawn as assemble_batch draws it (erasing aside, which is
// drawn after it with draw_erasure).
SampleTransform draw_transform(const Augmentation& augmentation, Rng& rng);

// The geometric and colour part: `dst` gets raw intensities in [0, 255] (not yet normalised).
// Rotation samples the source bilinearly at, for output pixel (x, y) and c = (size - 1) / 2,
//   u = (flip ? size - 1 - x : x) - c,  v = y - c,
//   sx = cos·u + ((c + dx) - sin·v),  sy = sin·u + ((c + dy) + cos·v),
// each in float and in that order, so that the same tensor operations on a GPU give the same bits.
void apply_transform(const uint8_t* src, int size, const SampleTransform& t, float* dst);

// The rectangle RandomErasing blanks in one sample; an empty one when it does not fire. Its draws
// depend on the image's size only, never its pixels, so they can be made apart from the image.
struct Erasure {
  int top = 0, left = 0, height = 0, width = 0;
};
Erasure draw_erasure(double probability, int size, Rng& rng);

// The normalisation applied to every image the network sees (training, validation and test):
// (value - kPixelCentre) / kPixelScale.
inline constexpr float kPixelCentre = 127.5f;
inline constexpr float kPixelScale = 64.0f;
inline float normalise_pixel(float value) {
  return (value - kPixelCentre) / kPixelScale;
}

}  // namespace fersweep::data
