#include "data/batch_assembly.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace fersweep::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

// The draws happen in a fixed order, and the first three always, so that flip-and-shift runs keep
// the random stream they had before rotation and colour existed.
SampleTransform draw_transform(const Augmentation& a, Rng& rng) {
  SampleTransform d;
  const uint64_t positions = 2 * static_cast<uint64_t>(a.shift) + 1;
  d.dx = static_cast<int>(uniform_index(rng, positions)) - a.shift;
  d.dy = static_cast<int>(uniform_index(rng, positions)) - a.shift;
  d.flip = (rng() & 1) && a.flip;
  if (a.rotation > 0) d.angle = uniform(rng, -a.rotation, a.rotation) * kPi / 180.0;
  if (a.brightness > 0)
    d.brightness = uniform(rng, std::max(0.0, 1 - a.brightness), 1 + a.brightness);
  if (a.contrast > 0) d.contrast = uniform(rng, std::max(0.0, 1 - a.contrast), 1 + a.contrast);
  return d;
}

namespace {

// Flip, then shift: exact pixel copies with edges replicated.
void shift_and_flip(const uint8_t* src, int size, const SampleTransform& d, float* dst) {
  for (int y = 0; y < size; ++y) {
    const int sy = std::clamp(y + d.dy, 0, size - 1);
    for (int x = 0; x < size; ++x) {
      const int sx = std::clamp((d.flip ? size - 1 - x : x) + d.dx, 0, size - 1);
      dst[y * size + x] = static_cast<float>(src[sy * size + sx]);
    }
  }
}

// Flip, rotate about the centre, shift; bilinear, with edges replicated. Each pixel's source
// position is one sum of a per-column and a per-row term (not a step along the row) so that
// worker/device_augment.cc, which has no rows to step along, gets the same bits. Taps inside the
// image skip the clamping.
void rotate(const uint8_t* src, int size, const SampleTransform& d, float* dst) {
  const float centre = static_cast<float>(size - 1) / 2.0f;
  const auto c = static_cast<float>(std::cos(d.angle)), s = static_cast<float>(std::sin(d.angle));
  const auto dx = static_cast<float>(d.dx), dy = static_cast<float>(d.dy);
  const auto at = [&](int y, int x) {
    return static_cast<float>(src[std::clamp(y, 0, size - 1) * size + std::clamp(x, 0, size - 1)]);
  };
  thread_local std::vector<float> column_terms;  // c·u and s·u per column; no per-sample allocation
  column_terms.resize(2 * static_cast<size_t>(size));
  float* const cos_u = column_terms.data();
  float* const sin_u = cos_u + size;
  for (int x = 0; x < size; ++x) {
    const float u = static_cast<float>(d.flip ? size - 1 - x : x) - centre;
    cos_u[x] = c * u, sin_u[x] = s * u;
  }
  for (int y = 0; y < size; ++y) {
    const float v = static_cast<float>(y) - centre;
    const float row_x = (centre + dx) - s * v, row_y = (centre + dy) + c * v;
    for (int x = 0; x < size; ++x) {
      const float sx = cos_u[x] + row_x, sy = sin_u[x] + row_y;
      const float fx = std::floor(sx), fy = std::floor(sy);
      const float ax = sx - fx, ay = sy - fy;
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
      float p00, p01, p10, p11;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < size && y0 + 1 < size) {
        const uint8_t* row = src + y0 * size + x0;
        p00 = row[0], p01 = row[1], p10 = row[size], p11 = row[size + 1];
      } else {
        p00 = at(y0, x0), p01 = at(y0, x0 + 1), p10 = at(y0 + 1, x0), p11 = at(y0 + 1, x0 + 1);
      }
      const float top = p00 + (p01 - p00) * ax, bottom = p10 + (p11 - p10) * ax;
      dst[y * size + x] = top + (bottom - top) * ay;
    }
  }
}

// As torchvision's ColorJitter: brightness, then contrast around the image's mean, each clamped.
void adjust_colour(const SampleTransform& d, size_t pixels, float* image) {
  if (d.brightness != 1) {
    const auto b = static_cast<float>(d.brightness);
    for (size_t p = 0; p < pixels; ++p) image[p] = std::min(255.0f, image[p] * b);
  }
  if (d.contrast != 1) {
    const double mean = std::accumulate(image, image + pixels, 0.0) / static_cast<double>(pixels);
    const auto c = static_cast<float>(d.contrast),
               offset = static_cast<float>(mean * (1 - d.contrast));
    for (size_t p = 0; p < pixels; ++p) image[p] = std::clamp(image[p] * c + offset, 0.0f, 255.0f);
  }
}

}  // namespace

// As torchvision's RandomErasing(p, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0), after
// normalisation.
Erasure draw_erasure(double probability, int size, Rng& rng) {
  if (uniform01(rng) >= probability) return {};
  const double area = static_cast<double>(size) * size;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * uniform(rng, 0.02, 0.33);
    const double aspect = std::exp(uniform(rng, std::log(0.3), std::log(3.3)));
    const auto h = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const auto w = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (h < 1 || w < 1 || h >= size || w >= size) continue;
    const auto top = static_cast<int>(uniform_index(rng, size - h + 1));
    const auto left = static_cast<int>(uniform_index(rng, size - w + 1));
    return {.top = top, .left = left, .height = h, .width = w};
  }
  return {};
}

void apply_transform(const uint8_t* src, int size, const SampleTransform& t, float* dst) {
  if (t.angle != 0) {
    rotate(src, size, t, dst);
  } else {
    shift_and_flip(src, size, t, dst);
  }
  adjust_colour(t, static_cast<size_t>(size) * size, dst);
}

std::vector<int64_t> epoch_order(const ImageSet& set, Sampling sampling, Rng& rng) {
  const auto n = static_cast<int64_t>(set.size());
  std::vector<int64_t> order(n);
  if (sampling == Sampling::kShuffle) {
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    return order;
  }
  std::vector<std::vector<int64_t>> members(set.class_names.size());
  for (int64_t i = 0; i < n; ++i) members.at(set.labels[i]).push_back(i);
  std::erase_if(members, [](const auto& m) { return m.empty(); });
  for (auto& index : order) {
    const auto& chosen = members[uniform_index(rng, members.size())];
    index = chosen[uniform_index(rng, chosen.size())];
  }
  return order;
}

std::vector<double> balanced_class_weights(const ImageSet& set) {
  std::vector<double> counts(set.class_names.size(), 0.0);
  for (const int label : set.labels) counts.at(label) += 1;
  const auto present = static_cast<double>(
      std::count_if(counts.begin(), counts.end(), [](double c) { return c > 0; }));
  std::vector<double> weights(counts.size(), 0.0);
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] > 0) weights[c] = static_cast<double>(set.size()) / (present * counts[c]);
  }
  return weights;
}

void assemble_batch(const ImageSet& set, std::span<const int64_t> indices,
                    const Augmentation& augmentation, Rng& rng, float* out, int64_t* labels) {
  const int size = set.image_size;
  const size_t pixels = set.pixels_per_image();
  for (size_t k = 0; k < indices.size(); ++k) {
    const auto index = static_cast<size_t>(indices[k]);
    const uint8_t* src = set.image(index);
    float* dst = out + k * pixels;
    labels[k] = set.labels[index];
    if (!augmentation.enabled) {
      for (size_t p = 0; p < pixels; ++p) dst[p] = normalise_pixel(static_cast<float>(src[p]));
      continue;
    }
    apply_transform(src, size, draw_transform(augmentation, rng), dst);
    for (size_t p = 0; p < pixels; ++p) dst[p] = normalise_pixel(dst[p]);
    if (augmentation.erasing <= 0) continue;
    const Erasure e = draw_erasure(augmentation.erasing, size, rng);
    for (int y = e.top; y < e.top + e.height; ++y)
      std::fill_n(dst + y * size + e.left, e.width, 0.0f);
  }
}

}  // namespace fersweep::data
