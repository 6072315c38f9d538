#include "data/synthetic_formats.h"

#include <cstdint>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "common/emotions.h"
#include "common/error.h"
#include "data/image_files.h"
#include "data/image_set.h"

namespace fersweep::data {
namespace {

namespace fs = std::filesystem;

cv::Mat as_mat(const ImageSet& set, size_t i) {
  const int n = set.image_size;
  return cv::Mat(n, n, CV_8UC1, const_cast<uint8_t*>(set.image(i))).clone();
}

SyntheticOptions faces(const SynthWriteOptions& o, int default_size, Framing default_framing,
                       double default_keep) {
  SyntheticOptions s;
  s.count = o.count;
  s.seed = o.seed;
  s.image_size = o.image_size > 0 ? o.image_size : default_size;
  s.framing = o.framing >= 0 ? static_cast<Framing>(o.framing) : default_framing;
  s.disgust_keep = o.disgust_keep > 0 ? o.disgust_keep : default_keep;
  return s;
}

const char* usage_of(size_t i) {
  return i % 10 < 8 ? "Training" : i % 10 == 8 ? "PublicTest" : "PrivateTest";
}

SynthWriteReport write_fer2013(const SynthWriteOptions& o) {
  if (o.image_size != 0 && o.image_size != 48) {
    throw InputError("--image-size: the FER2013 CSV format holds 48x48 faces only");
  }
  const ImageSet set = generate_synthetic_faces(faces(o, 48, Framing::kClose, 0.1));
  if (fs::path(o.out).has_parent_path()) fs::create_directories(fs::path(o.out).parent_path());
  std::ofstream csv(o.out, std::ios::binary);
  if (!csv) throw InputError(o.out + ": cannot write");
  csv << "emotion,pixels,Usage\n";
  SynthWriteReport report;
  for (size_t i = 0; i < set.size(); ++i) {
    csv << set.labels[i] << ',';
    for (size_t p = 0; p < set.pixels_per_image(); ++p) {
      csv << (p ? " " : "") << static_cast<int>(set.image(i)[p]);
    }
    csv << ',' << usage_of(i) << '\n';
    ++report.per_class[emotion_name(set.labels[i])];
  }
  report.images = static_cast<int>(set.size());
  return report;
}

SynthWriteReport write_folders(const SynthWriteOptions& o) {
  const ImageSet set = generate_synthetic_faces(faces(o, 48, Framing::kClose, 1.0));
  SynthWriteReport report;
  for (size_t i = 0; i < set.size(); ++i) {
    const char* split = i % 10 < 8 ? "train" : i % 10 == 8 ? "val" : "test";
    std::string name = emotion_name(set.labels[i]);
    name[0] = static_cast<char>(std::tolower(name[0]));
    write_image(fs::path(o.out) / split / name / fmt::format("{:06d}.png", i), as_mat(set, i));
    ++report.per_class[emotion_name(set.labels[i])];
  }
  report.images = static_cast<int>(set.size());
  return report;
}

SynthWriteReport write_jaffe(const SynthWriteOptions& o) {
  static const char* const kSubjects[] = {"KA", "KL", "KM", "KR", "MK",
                                          "NA", "NM", "TM", "UY", "YM"};
  static const char* const kCodes[] = {"AN", "DI", "FE", "HA", "SA", "SU", "NE"};
  SyntheticOptions s = faces(o, 256, Framing::kWide, 1.0);
  s.identities = 10;
  const ImageSet set = generate_synthetic_faces(s);
  SynthWriteReport report;
  for (size_t i = 0; i < set.size(); ++i) {
    const std::string name = fmt::format("{}.{}{}.{}.tiff", kSubjects[set.people[i] % 10],
                                         kCodes[set.labels[i]], 1 + i % 3, i + 1);
    write_image(fs::path(o.out) / name, as_mat(set, i));
    ++report.per_class[emotion_name(set.labels[i])];
  }
  report.images = static_cast<int>(set.size());
  return report;
}

SynthWriteReport write_ckplus(const SynthWriteOptions& o) {
  static const int kCode[] = {1, 3, 4, 5, 6, 7, 0};  // canonical emotion -> CK+ code
  constexpr int kPeaks = 3, kContempt = 2;
  const int sequences = std::max(1, o.count / (kPeaks + 1));
  SyntheticOptions s = faces(o, 96, Framing::kClose, 1.0);
  for (int q = 0; q < sequences; ++q) {
    const int person = q / 3;                         // three sequences per subject
    const int emotion = q % 7 == 6 ? kHappy : q % 7;  // CK+ sequences are rarely neutral
    s.labels.push_back(kNeutral);
    s.people.push_back(person);
    for (int k = 0; k < kPeaks; ++k) {
      s.labels.push_back(emotion);
      s.people.push_back(person);
    }
  }
  const ImageSet set = generate_synthetic_faces(s);
  const int n = set.image_size, pad = n / 6;
  SynthWriteReport report;
  for (int q = 0; q < sequences; ++q) {
    const std::string subject = fmt::format("S{:03d}", 10 + q / 3);
    const std::string number = fmt::format("{:03d}", 1 + q % 3);
    const fs::path frames = fs::path(o.out) / "cohn-kanade-images" / subject / number;
    for (int f = 0; f <= kPeaks; ++f) {
      cv::Mat wide;
      cv::copyMakeBorder(as_mat(set, static_cast<size_t>(q * (kPeaks + 1) + f)), wide, 0, 0, pad,
                         pad, cv::BORDER_REPLICATE);
      write_image(frames / fmt::format("{}_{}_{:08d}.png", subject, number, f + 1), wide);
    }
    const int emotion = set.labels[static_cast<size_t>(q * (kPeaks + 1) + 1)];
    const bool contempt = q % 8 == 7;
    const fs::path label = fs::path(o.out) / "Emotion" / subject / number /
                           fmt::format("{}_{}_{:08d}_emotion.txt", subject, number, kPeaks + 1);
    fs::create_directories(label.parent_path());
    std::ofstream(label) << fmt::format("   {:.7e}\n",
                                        static_cast<double>(contempt ? kContempt : kCode[emotion]));
    report.per_class[contempt ? "Contempt" : emotion_name(emotion)] += kPeaks;
    report.per_class[emotion_name(kNeutral)] += 1;
  }
  report.images = sequences * (kPeaks + 1);
  return report;
}

}  // namespace

SynthWriteReport write_synthetic(const SynthWriteOptions& o) {
  if (o.count < 1) throw InputError("--count: must be at least 1");
  if (o.format == "fer2013") return write_fer2013(o);
  if (o.format == "ckplus") return write_ckplus(o);
  if (o.format == "jaffe") return write_jaffe(o);
  if (o.format == "folders") return write_folders(o);
  throw InputError(
      fmt::format("--format: unknown \"{}\" (fer2013, ckplus, jaffe, folders)", o.format));
}

}  // namespace fersweep::data
