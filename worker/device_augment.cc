#include "worker/device_augment.h"

#include <cmath>
#include <cstdint>

namespace fersweep::worker {
namespace {

// The columns of the per-sample table, kept in double so that every value crosses exactly and
// converts to float on the device as the host converts it.
enum Column : int64_t {
  kCos,
  kSin,
  kDx,
  kDy,
  kFlip,
  kBrightness,
  kContrast,
  kEraseTop,
  kEraseLeft,
  kEraseHeight,
  kEraseWidth,
  kColumns
};

torch::Tensor draw_table(const std::vector<SampleDraws>& draws, const torch::Device& device) {
  std::vector<double> table;
  table.reserve(draws.size() * kColumns);
  for (const auto& [t, e] : draws) {
    table.insert(table.end(),
                 {static_cast<double>(static_cast<float>(std::cos(t.angle))),
                  static_cast<double>(static_cast<float>(std::sin(t.angle))),
                  static_cast<double>(t.dx), static_cast<double>(t.dy), t.flip ? 1.0 : 0.0,
                  t.brightness, t.contrast, static_cast<double>(e.top), static_cast<double>(e.left),
                  static_cast<double>(e.height), static_cast<double>(e.width)});
  }
  return torch::tensor(table, torch::kFloat64)
      .view({static_cast<int64_t>(draws.size()), kColumns})
      .to(device);
}

// One column as [n, 1, 1], ready to broadcast over a batch of images.
torch::Tensor per_sample(const torch::Tensor& table, Column column, torch::ScalarType type) {
  return table.select(1, column).to(type).view({-1, 1, 1});
}

// Integer shifts, no rotation: exact pixel copies by two gathers, as data's shift_and_flip.
torch::Tensor shift_and_flip(const torch::Tensor& images, const torch::Tensor& table) {
  const int64_t n = images.size(0), side = images.size(1);
  const torch::Tensor position =
      torch::arange(side, torch::TensorOptions().dtype(torch::kInt64).device(images.device()))
          .view({1, 1, side});
  const torch::Tensor rows =
      (position + per_sample(table, kDy, torch::kInt64)).clamp(0, side - 1).view({n, side, 1});
  const torch::Tensor mirrored =
      torch::where(per_sample(table, kFlip, torch::kInt64).eq(1), side - 1 - position, position);
  const torch::Tensor cols =
      (mirrored + per_sample(table, kDx, torch::kInt64)).clamp(0, side - 1).view({n, 1, side});
  return images.gather(1, rows.expand({n, side, side}))
      .gather(2, cols.expand({n, side, side}))
      .to(torch::kFloat32);
}

// Flip, rotate about the centre, shift, bilinear with edges replicated: data's rotate, with the
// same float operations in the same order (see data::apply_transform).
torch::Tensor rotate(const torch::Tensor& images, const torch::Tensor& table) {
  const int64_t n = images.size(0), side = images.size(1);
  const auto as_float = torch::TensorOptions().dtype(torch::kFloat32).device(images.device());
  const float centre = static_cast<float>(side - 1) / 2.0f;
  const torch::Tensor position = torch::arange(side, as_float).view({1, 1, side});
  const torch::Tensor c = per_sample(table, kCos, torch::kFloat32);
  const torch::Tensor s = per_sample(table, kSin, torch::kFloat32);
  const torch::Tensor u =
      torch::where(per_sample(table, kFlip, torch::kInt64).eq(1), (side - 1) - position, position)
          .sub(centre);                                             // [n, 1, S]
  const torch::Tensor v = position.view({1, side, 1}).sub(centre);  // [1, S, 1]
  const torch::Tensor row_x = per_sample(table, kDx, torch::kFloat32).add(centre).sub(s * v);
  const torch::Tensor row_y = per_sample(table, kDy, torch::kFloat32).add(centre).add(c * v);
  const torch::Tensor sx = c * u + row_x, sy = s * u + row_y;  // [n, S, S]
  const torch::Tensor fx = sx.floor(), fy = sy.floor();
  const torch::Tensor ax = sx - fx, ay = sy - fy;
  const torch::Tensor x0 = fx.to(torch::kInt64), y0 = fy.to(torch::kInt64);
  const torch::Tensor flat = images.reshape({n, side * side}).to(torch::kFloat32);
  const auto tap = [&](const torch::Tensor& y, const torch::Tensor& x) {
    const torch::Tensor index = y.clamp(0, side - 1).mul_(side).add_(x.clamp(0, side - 1));
    return flat.gather(1, index.reshape({n, side * side})).view({n, side, side});
  };
  const torch::Tensor p00 = tap(y0, x0), p01 = tap(y0, x0 + 1);
  const torch::Tensor p10 = tap(y0 + 1, x0), p11 = tap(y0 + 1, x0 + 1);
  const torch::Tensor top = (p01 - p00).mul_(ax).add_(p00);
  const torch::Tensor bottom = (p11 - p10).mul_(ax).add_(p10);
  return (bottom - top).mul_(ay).add_(top);
}

// As data's adjust_colour: brightness, then contrast around the image's mean (in double).
void adjust_colour(torch::Tensor& images, const torch::Tensor& table,
                   const data::Augmentation& augmentation) {
  if (augmentation.brightness > 0) {
    images.mul_(per_sample(table, kBrightness, torch::kFloat32)).clamp_max_(255.0f);
  }
  if (augmentation.contrast > 0) {
    const torch::Tensor contrast = table.select(1, kContrast).view({-1, 1, 1});
    const torch::Tensor mean = images.to(torch::kFloat64)
                                   .sum({1, 2}, /*keepdim=*/true)
                                   .div_(images.size(1) * images.size(2));
    const torch::Tensor offset = mean.mul_(1.0 - contrast).to(torch::kFloat32);
    images.mul_(contrast.to(torch::kFloat32)).add_(offset).clamp_(0.0f, 255.0f);
  }
}

void erase(torch::Tensor& images, const torch::Tensor& table) {
  const int64_t side = images.size(1);
  const torch::Tensor position =
      torch::arange(side, torch::TensorOptions().dtype(torch::kInt64).device(images.device()));
  const auto inside = [&](const torch::Tensor& at, Column first, Column length) {
    const torch::Tensor start = per_sample(table, first, torch::kInt64);
    return at.ge(start).logical_and_(at.lt(start + per_sample(table, length, torch::kInt64)));
  };
  images.masked_fill_(
      inside(position.view({1, side, 1}), kEraseTop, kEraseHeight)
          .logical_and(inside(position.view({1, 1, side}), kEraseLeft, kEraseWidth)),
      0.0f);
}

}  // namespace

std::vector<SampleDraws> draw_samples(const data::Augmentation& augmentation, int size,
                                      int64_t count, Rng& rng) {
  std::vector<SampleDraws> draws(static_cast<size_t>(count));
  for (SampleDraws& d : draws) {
    d.transform = data::draw_transform(augmentation, rng);
    if (augmentation.erasing > 0) d.erasure = data::draw_erasure(augmentation.erasing, size, rng);
  }
  return draws;
}

torch::Tensor augment_on_device(const torch::Tensor& images, const std::vector<SampleDraws>& draws,
                                const data::Augmentation& augmentation) {
  const torch::Tensor table = draw_table(draws, images.device());
  torch::Tensor out =
      augmentation.rotation > 0 ? rotate(images, table) : shift_and_flip(images, table);
  adjust_colour(out, table, augmentation);
  out.sub_(data::kPixelCentre).div_(data::kPixelScale);
  if (augmentation.erasing > 0) erase(out, table);
  return out.unsqueeze(1);
}

}  // namespace fersweep::worker
