#include "data/synthetic_faces.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "common/random.h"

namespace fersweep::data {
namespace {

// Facial action parameters. Neutral is the zero point except for eye opening and mouth width.
struct Expression {
  double brow_raise = 0;   // + raises both brows
  double brow_tilt = 0;    // + pulls the inner ends down (anger), - lifts them (sadness, fear)
  double eye_open = 1;     // multiplies the eye height
  double mouth_curve = 0;  // + corners up (smile), - corners down
  double mouth_open = 0;   // jaw drop
  double mouth_width = 0.28;
  double lip_raise = 0;  // one-sided upper-lip raise (disgust)
  double wrinkle = 0;    // nose-bridge wrinkles (disgust, some anger)
};

// Prototypes in FER2013 label order: Angry, Disgust, Fear, Happy, Sad, Surprise, Neutral.
constexpr std::array<Expression, 7> kPrototypes = {{
    {-0.6, 1.0, 0.70, -0.30, 0.05, 0.24, 0.0, 0.35},
    {-0.4, 0.7, 0.65, -0.55, 0.12, 0.27, 0.9, 1.00},
    {0.8, -0.7, 1.60, -0.30, 0.45, 0.33, 0.0, 0.00},
    {0.1, 0.0, 0.75, 1.00, 0.30, 0.34, 0.0, 0.00},
    {0.2, -1.0, 0.80, -0.80, 0.00, 0.26, 0.0, 0.00},
    {1.0, 0.0, 1.80, 0.00, 1.00, 0.18, 0.0, 0.00},
    {0.0, 0.0, 1.00, 0.00, 0.00, 0.28, 0.0, 0.00},
}};

struct Identity {
  double face_half_width, face_half_height;
  double skin, hair, hair_line;
  double eye_dx, eye_y, brow_gap, brow_thickness, mouth_y;
  Expression resting;  // small personal offsets: some people look stern or sad at rest
};

struct Pose {
  double angle, scale, shift_x, shift_y;
};

Identity make_identity(uint64_t seed) {
  Rng rng(seed);
  Identity id;
  id.face_half_width = uniform(rng, 0.68, 0.86);
  id.face_half_height = uniform(rng, 0.95, 1.08);
  id.skin = uniform(rng, 110, 210);
  id.hair = uniform(rng, 15, 120);
  id.hair_line = uniform(rng, -0.75, -0.45);
  id.eye_dx = uniform(rng, 0.28, 0.38);
  id.eye_y = uniform(rng, -0.24, -0.12);
  id.brow_gap = uniform(rng, 0.14, 0.21);
  id.brow_thickness = uniform(rng, 0.045, 0.07);
  id.mouth_y = uniform(rng, 0.44, 0.56);
  id.resting = Expression{normal(rng, 0, 0.15),
                          normal(rng, 0, 0.2),
                          0,
                          normal(rng, 0, 0.15),
                          0,
                          normal(rng, 0, 0.02),
                          0,
                          0};
  return id;
}

Expression make_expression(int label, const Identity& id, Rng& rng) {
  const Expression& proto = kPrototypes[label];
  const Expression& neutral = kPrototypes[6];
  const double t = uniform(rng, 0.45, 1.0);  // intensity: weak expressions look neutral
  auto blend = [&](double n, double p, double jitter) {
    return n + t * (p - n) + normal(rng, 0, jitter);
  };
  Expression e;
  e.brow_raise = blend(neutral.brow_raise, proto.brow_raise, 0.15) + id.resting.brow_raise;
  e.brow_tilt = blend(neutral.brow_tilt, proto.brow_tilt, 0.2) + id.resting.brow_tilt;
  e.eye_open = std::max(0.25, blend(neutral.eye_open, proto.eye_open, 0.12));
  e.mouth_curve = blend(neutral.mouth_curve, proto.mouth_curve, 0.15) + id.resting.mouth_curve;
  e.mouth_open = std::max(0.0, blend(neutral.mouth_open, proto.mouth_open, 0.08));
  e.mouth_width = std::clamp(
      blend(neutral.mouth_width, proto.mouth_width, 0.02) + id.resting.mouth_width, 0.14, 0.4);
  e.lip_raise = std::max(0.0, blend(neutral.lip_raise, proto.lip_raise, 0.1));
  e.wrinkle = std::max(0.0, blend(neutral.wrinkle, proto.wrinkle, 0.1));
  return e;
}

double smooth_coverage(double signed_distance, double pixel) {
  return std::clamp(0.5 - signed_distance / pixel, 0.0, 1.0);
}

double ellipse_distance(double u, double v, double cx, double cy, double a, double b) {
  const double du = (u - cx) / a, dv = (v - cy) / b;
  return (std::sqrt(du * du + dv * dv) - 1.0) * std::min(a, b);
}

double segment_distance(double u, double v, double x0, double y0, double x1, double y1) {
  const double dx = x1 - x0, dy = y1 - y0;
  const double t = std::clamp(((u - x0) * dx + (v - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(u - (x0 + t * dx), v - (y0 + t * dy));
}

// Grey level of the face at face coordinates (u, v); y grows downwards, face centre at 0.
double shade(double u, double v, double background, const Identity& id, const Expression& e,
             int lip_side, double pixel) {
  double value = background;
  auto paint = [&](double color, double alpha) { value += alpha * (color - value); };

  const double head = ellipse_distance(u, v, 0, 0, id.face_half_width, id.face_half_height);
  paint(id.skin, smooth_coverage(head, pixel));
  const double hair_region =
      ellipse_distance(u, v, 0, -0.05, id.face_half_width + 0.06, id.face_half_height + 0.08);
  if (v < id.hair_line) paint(id.hair, smooth_coverage(hair_region, pixel));

  for (int side : {-1, 1}) {
    const double ex = side * id.eye_dx;
    const double eye_h = 0.08 * e.eye_open;
    const double eye = ellipse_distance(u, v, ex, id.eye_y, 0.14, eye_h);
    paint(std::min(255.0, id.skin + 45), smooth_coverage(eye, pixel));
    const double iris = std::hypot(u - ex, v - id.eye_y) - 0.06;
    paint(25, smooth_coverage(std::max(iris, eye), pixel));
    paint(id.skin * 0.45, smooth_coverage(std::abs(eye) - 0.012, pixel) * 0.8);

    const double brow_y = id.eye_y - id.brow_gap - 0.09 * e.brow_raise;
    const double inner_y = brow_y + 0.08 * e.brow_tilt;
    const double outer_y = brow_y - 0.03 * e.brow_tilt;
    const double brow = segment_distance(u, v, side * 0.1, inner_y, side * 0.5, outer_y);
    paint(id.hair * 0.8, smooth_coverage(brow - id.brow_thickness, pixel));
  }

  const double shadow = id.skin * 0.7;
  paint(shadow, smooth_coverage(segment_distance(u, v, 0.02, -0.02, 0.04, 0.2) - 0.012, pixel));
  for (int side : {-1, 1}) {
    paint(shadow * 0.6, smooth_coverage(std::hypot(u - side * 0.07, v - 0.23) - 0.028, pixel));
  }
  for (double wy : {-0.06, -0.01}) {
    const double wrinkle = segment_distance(u, v, -0.09, wy, 0.09, wy) - 0.01;
    paint(shadow * 0.75, smooth_coverage(wrinkle, pixel) * std::min(1.0, e.wrinkle));
  }

  // Mouth: a curved midline; the jaw drop and the one-sided lip raise open a dark cavity.
  const double s = u / e.mouth_width;
  if (std::abs(s) <= 1.15) {
    const double sc = std::min(1.0, std::abs(s));
    const double mid = id.mouth_y + e.mouth_curve * 0.1 * (0.33 - sc * sc);
    const double lip_up = 0.06 * e.lip_raise * (0.5 + 0.5 * lip_side * std::clamp(s, -1.0, 1.0));
    const double upper = mid - (0.04 * e.mouth_open + lip_up) * (1 - sc * sc);
    const double lower = mid + 0.13 * e.mouth_open * (1 - sc * sc);
    const double inside = std::max(upper - v, v - lower);  // < 0 between the lips
    const double ends = (std::abs(s) - 1.0) * e.mouth_width;
    paint(30, smooth_coverage(std::max(inside, ends), pixel));
    const double lip_line = std::min(std::abs(v - upper), std::abs(v - lower)) - 0.025;
    paint(id.skin * 0.5, smooth_coverage(std::max(lip_line, ends), pixel));
  }
  return value;
}

}  // namespace

ImageSet generate_synthetic_faces(const SyntheticOptions& options) {
  const bool given = !options.labels.empty();
  const int count = given ? static_cast<int>(options.labels.size()) : options.count;
  if (count < 0 || options.image_size < 8 || options.identities < 1 ||
      (given && options.people.size() != options.labels.size()) || options.disgust_keep <= 0 ||
      options.disgust_keep > 1) {
    throw std::invalid_argument("generate_synthetic_faces: bad options");
  }
  ImageSet set;
  set.image_size = options.image_size;
  set.class_names = fer2013_class_names();
  set.labels.resize(count);
  set.people.resize(count);
  set.pixels.resize(static_cast<size_t>(count) * set.pixels_per_image());

  const int n = options.image_size;
  const bool wide = options.framing == Framing::kWide;
  const uint64_t split_seed = mix_seed(options.seed, 1000 + options.split);
  for (int i = 0; i < count; ++i) {
    Rng rng(mix_seed(split_seed, static_cast<uint64_t>(i)));
    int label = given ? options.labels[i] : static_cast<int>(uniform_index(rng, 7));
    while (!given && label == kDisgust && options.disgust_keep < 1 &&
           uniform01(rng) >= options.disgust_keep) {
      label = static_cast<int>(uniform_index(rng, 7));
    }
    const uint64_t person = given ? static_cast<uint64_t>(options.people[i])
                                  : uniform_index(rng, static_cast<uint64_t>(options.identities));
    const Identity id = make_identity(mix_seed(options.seed, 1u << 20 | person));
    const Expression expression = make_expression(label, id, rng);
    const int lip_side = uniform01(rng) < 0.5 ? -1 : 1;
    const Pose pose{normal(rng, 0, 0.12), uniform(rng, 0.9, 1.1), normal(rng, 0, 0.05 * n),
                    normal(rng, 0, 0.05 * n)};
    const double background = uniform(rng, 20, 235);
    const double brightness = uniform(rng, -25, 25), contrast = uniform(rng, 0.7, 1.2);
    const double light_angle = uniform(rng, 0, 6.283185307179586);
    const double light_strength = uniform(rng, 0, 30);
    const double noise = uniform(rng, 2, 9);

    // Face coordinate unit in pixels: the wide framing shows the face at 40 % of the size.
    const double scale = (wide ? 0.17 : 0.42) * n * pose.scale;
    const double pixel = 1.0 / scale;
    const double cos_a = std::cos(pose.angle), sin_a = std::sin(pose.angle);
    const double cx = 0.5 * n + pose.shift_x, cy = (wide ? 0.4 : 0.52) * n + pose.shift_y;
    const double torso = std::clamp(background + (background > 128 ? -70.0 : 70.0), 0.0, 255.0);
    uint8_t* out = set.pixels.data() + static_cast<size_t>(i) * set.pixels_per_image();
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) {
        const double px = (x + 0.5 - cx) / scale, py = (y + 0.5 - cy) / scale;
        const double u = cos_a * px + sin_a * py, v = -sin_a * px + cos_a * py;
        double behind = background;
        if (wide) {
          // Shoulders under the head and a striped wall behind, as in a studio portrait.
          const bool shoulders = py > 1.1 && std::abs(px) < 1.0 + 0.9 * (py - 1.1);
          behind = shoulders ? torso : background + 18 * std::sin(0.35 * x + 0.1 * y);
        }
        double value = shade(u, v, behind, id, expression, lip_side, pixel);
        const double light = light_strength * (std::cos(light_angle) * (x / double(n) - 0.5) +
                                               std::sin(light_angle) * (y / double(n) - 0.5));
        value = (value - 128) * contrast + 128 + brightness + light + normal(rng, 0, noise);
        out[y * n + x] = static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L));
      }
    }
    set.labels[i] = label;
    set.people[i] = static_cast<int>(person);
  }
  return set;
}

}  // namespace fersweep::data
