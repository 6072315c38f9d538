#include "data/sources.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "common/emotions.h"
#include "common/error.h"
#include "data/image_files.h"
#include "data/image_set.h"

namespace fersweep::data {
namespace {

namespace fs = std::filesystem;
constexpr size_t kKeptProblems = 20;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_image_file(const fs::path& p) {
  static const char* const kExtensions[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"};
  const std::string ext = lower(p.extension().string());
  return std::any_of(std::begin(kExtensions), std::end(kExtensions),
                     [&](const char* e) { return ext == e; });
}

std::vector<fs::path> sorted_entries(const fs::path& dir, bool directories) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (directories ? entry.is_directory() : entry.is_regular_file()) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The Haar cascade of Debian's opencv-data, loaded once per thread (CascadeClassifier is not
// safe to share between threads).
cv::CascadeClassifier& face_detector() {
  thread_local cv::CascadeClassifier detector;
  if (detector.empty()) {
    const char* env = std::getenv("FERSWEEP_HAAR_CASCADE");
    const std::string file =
        env ? env : std::string(FERSWEEP_HAAR_DIR) + "/haarcascade_frontalface_default.xml";
    if (!fs::exists(file) || !detector.load(file)) {
      throw InputError(file +
                       ": crop \"face\" needs OpenCV's frontal-face Haar cascade (Debian "
                       "package opencv-data, or set FERSWEEP_HAAR_CASCADE)");
    }
  }
  return detector;
}

// The square to keep: around the largest detected face, else the centre square.
cv::Rect square_of(const cv::Mat& gray, Crop crop, bool& found) {
  const int side = std::min(gray.rows, gray.cols);
  cv::Rect square((gray.cols - side) / 2, (gray.rows - side) / 2, side, side);
  found = false;
  if (crop != Crop::kFace) return square;
  std::vector<cv::Rect> faces;
  face_detector().detectMultiScale(gray, faces, 1.1, 3, 0, cv::Size(side / 8, side / 8));
  if (faces.empty()) return square;
  const cv::Rect face = *std::max_element(faces.begin(), faces.end(),
                                          [](auto& a, auto& b) { return a.area() < b.area(); });
  const int wide =
      std::min(side, static_cast<int>(std::lround(1.25 * std::max(face.width, face.height))));
  const int x = std::clamp(face.x + face.width / 2 - wide / 2, 0, gray.cols - wide);
  const int y = std::clamp(face.y + face.height / 2 - wide / 2, 0, gray.rows - wide);
  found = true;
  return {x, y, wide, wide};
}

// Collects images; a bad item either throws (naming where) or is skipped and counted.
class Collector {
 public:
  Collector(const SourceSpec& spec, int image_size, Crop crop) : spec_(spec), crop_(crop) {
    out_.image_size = image_size;
  }

  void fail(const std::string& where, const std::string& why) {
    const std::string message = fmt::format("{}: {}", where, why);
    if (!spec_.skip_bad) throw InputError(message);
    ++out_.skipped_bad;
    if (out_.problems.size() < kKeptProblems) out_.problems.push_back(message);
  }

  void add(const cv::Mat& gray, int emotion, const std::string& subject, SplitHint hint) {
    bool found = false;
    const cv::Rect box = square_of(gray, crop_, found);
    if (crop_ == Crop::kFace && !found) ++out_.no_face;
    const cv::Mat square = gray(box);
    const int side = box.width;
    cv::Mat sized;
    const int n = out_.image_size;
    if (side == n) {
      sized = square.clone();
    } else {
      cv::resize(square, sized, cv::Size(n, n), 0, 0, side > n ? cv::INTER_AREA : cv::INTER_LINEAR);
    }
    for (int y = 0; y < n; ++y) {
      const uint8_t* row = sized.ptr<uint8_t>(y);
      out_.pixels.insert(out_.pixels.end(), row, row + n);
    }
    out_.emotions.push_back(emotion);
    out_.subjects.push_back(subject);
    out_.hints.push_back(hint);
  }

  // Decodes an image file as grayscale; false (after fail()) when it cannot.
  bool add_file(const fs::path& file, int emotion, const std::string& subject, SplitHint hint) {
    const cv::Mat gray = read_gray_image(file);
    if (gray.empty()) {
      fail(file.string(), "cannot decode the image (missing, truncated or not an image)");
      return false;
    }
    add(gray, emotion, subject, hint);
    return true;
  }

  void exclude(int count) { out_.excluded += count; }
  SourceImages take() { return std::move(out_); }

 private:
  const SourceSpec& spec_;
  Crop crop_;
  SourceImages out_;
};

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == separator && !quoted) {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return fields;
}

// Kaggle's fer2013.csv: header emotion,pixels[,Usage]; 48x48 = 2,304 space-separated values.
SourceImages load_fer2013(const SourceSpec& spec, int image_size, Crop crop) {
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) throw InputError(spec.path + ": cannot open the FER2013 CSV file");
  Collector images(spec, image_size, crop);
  std::string line;
  if (!std::getline(in, line)) throw InputError(spec.path + ":1: empty file, expected a header");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> header = split(line, ',');
  const bool has_usage = header.size() == 3 && header[2] == "Usage";
  if (header.size() < 2 || header[0] != "emotion" || header[1] != "pixels" ||
      (header.size() == 3 && !has_usage) || header.size() > 3) {
    throw InputError(
        fmt::format("{}:1: expected the header emotion,pixels,Usage, got \"{}\"", spec.path, line));
  }
  static const std::map<std::string, SplitHint> usages = {{"Training", SplitHint::kTrain},
                                                          {"PublicTest", SplitHint::kValidation},
                                                          {"PrivateTest", SplitHint::kTest}};
  constexpr int kSide = 48, kPixels = kSide * kSide;
  cv::Mat face(kSide, kSide, CV_8UC1);
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", spec.path, number);
    const std::vector<std::string> fields = split(line, ',');
    if (fields.size() != header.size()) {
      images.fail(where, fmt::format("expected {} fields, got {}", header.size(), fields.size()));
      continue;
    }
    int emotion = -1;
    const auto [end, error] =
        std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), emotion);
    if (error != std::errc() || end != fields[0].data() + fields[0].size() || emotion < 0 ||
        emotion >= kEmotionCount) {
      images.fail(where, fmt::format("emotion must be an integer 0-6, got \"{}\"", fields[0]));
      continue;
    }
    SplitHint hint = SplitHint::kNone;
    if (has_usage) {
      auto it = usages.find(fields[2]);
      if (it == usages.end()) {
        images.fail(where, fmt::format("unknown Usage \"{}\" (Training, PublicTest, PrivateTest)",
                                       fields[2]));
        continue;
      }
      hint = it->second;
    }
    std::istringstream values(fields[1]);
    int count = 0;
    std::string token;
    bool bad = false;
    while (values >> token) {
      int v = -1;
      const auto [p, e] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (e != std::errc() || p != token.data() + token.size() || v < 0 || v > 255) {
        images.fail(where,
                    fmt::format("pixel {} is \"{}\", not an integer 0-255", count + 1, token));
        bad = true;
        break;
      }
      if (count < kPixels) face.data[count] = static_cast<uint8_t>(v);
      ++count;
    }
    if (bad) continue;
    if (count != kPixels) {
      images.fail(where, fmt::format("expected {} pixel values, got {}", kPixels, count));
      continue;
    }
    images.add(face, emotion, "", hint);
  }
  return images.take();
}

// CK+: cohn-kanade-images/Sxxx/nnn/*.png frames, Emotion/Sxxx/nnn/*_emotion.txt labels
// (codes 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise).
SourceImages load_ckplus(const SourceSpec& spec, int image_size, Crop crop) {
  const fs::path root(spec.path), frames_root = root / "cohn-kanade-images",
                                  labels_root = root / "Emotion";
  for (const fs::path& dir : {frames_root, labels_root}) {
    if (!fs::is_directory(dir)) throw InputError(dir.string() + ": no such directory (CK+ layout)");
  }
  static const int kCanonical[] = {kNeutral, kAngry, -1, kDisgust, kFear, kHappy, kSad, kSurprise};
  Collector images(spec, image_size, crop);
  for (const fs::path& subject : sorted_entries(labels_root, true)) {
    for (const fs::path& sequence : sorted_entries(subject, true)) {
      for (const fs::path& label_file : sorted_entries(sequence, false)) {
        if (label_file.string().find("_emotion.txt") == std::string::npos) continue;
        std::ifstream in(label_file);
        double code = -1;
        if (!(in >> code) || code != std::floor(code) || code < 0 || code > 7) {
          images.fail(label_file.string() + ":1", "expected an emotion code 0-7");
          continue;
        }
        const fs::path frames_dir = frames_root / subject.filename() / sequence.filename();
        std::vector<fs::path> frames;
        if (fs::is_directory(frames_dir)) {
          for (const fs::path& f : sorted_entries(frames_dir, false)) {
            if (is_image_file(f)) frames.push_back(f);
          }
        }
        if (frames.empty()) {
          images.fail(frames_dir.string(), "no frames for this labelled sequence");
          continue;
        }
        const int emotion = kCanonical[static_cast<int>(code)];
        const int peaks = std::min<int>(spec.peak_frames, static_cast<int>(frames.size()));
        const std::string who = subject.filename().string();
        if (emotion < 0) {
          images.exclude(peaks);  // contempt: no FER2013 class to put it in
        } else {
          for (size_t i = frames.size() - peaks; i < frames.size(); ++i) {
            images.add_file(frames[i], emotion, who, SplitHint::kNone);
          }
        }
        if (spec.first_frame_neutral && emotion != kNeutral && frames.size() > size_t(peaks)) {
          images.add_file(frames.front(), kNeutral, who, SplitHint::kNone);
        }
      }
    }
  }
  return images.take();
}

// JAFFE: KA.AN1.39.tiff = subject KA, emotion AN (AN DI FE HA NE SA SU), pose 1, number 39.
SourceImages load_jaffe(const SourceSpec& spec, int image_size, Crop crop) {
  if (!fs::is_directory(spec.path)) throw InputError(spec.path + ": no such directory (JAFFE)");
  Collector images(spec, image_size, crop);
  for (const fs::path& file : sorted_entries(spec.path, false)) {
    if (!is_image_file(file)) continue;
    const std::vector<std::string> parts = split(file.filename().string(), '.');
    std::optional<int> emotion;
    if (parts.size() == 4 && parts[1].size() >= 2)
      emotion = emotion_from_name(parts[1].substr(0, 2));
    if (!emotion) {
      images.fail(file.string(),
                  "not a JAFFE name like KA.AN1.39.tiff (emotion AN DI FE HA NE SA SU)");
      continue;
    }
    images.add_file(file, *emotion, parts[0], SplitHint::kNone);
  }
  return images.take();
}

// One folder per class (angry/, disgust/, ...), optionally under train/, val/ and test/.
SourceImages load_folders(const SourceSpec& spec, int image_size, Crop crop) {
  if (!fs::is_directory(spec.path)) throw InputError(spec.path + ": no such directory");
  static const std::map<std::string, SplitHint> splits = {{"train", SplitHint::kTrain},
                                                          {"training", SplitHint::kTrain},
                                                          {"val", SplitHint::kValidation},
                                                          {"validation", SplitHint::kValidation},
                                                          {"test", SplitHint::kTest}};
  std::vector<std::pair<fs::path, SplitHint>> roots;
  for (const fs::path& dir : sorted_entries(spec.path, true)) {
    auto it = splits.find(lower(dir.filename().string()));
    if (it != splits.end()) roots.emplace_back(dir, it->second);
  }
  if (roots.empty()) roots.emplace_back(spec.path, SplitHint::kNone);
  Collector images(spec, image_size, crop);
  for (const auto& [root, hint] : roots) {
    for (const fs::path& class_dir : sorted_entries(root, true)) {
      const std::string name = class_dir.filename().string();
      std::vector<fs::path> files;
      for (const fs::path& f : sorted_entries(class_dir, false)) {
        if (is_image_file(f)) files.push_back(f);
      }
      if (lower(name) == "contempt") {
        images.exclude(static_cast<int>(files.size()));
        continue;
      }
      const auto emotion = emotion_from_name(name);
      if (!emotion) {
        images.fail(class_dir.string(), fmt::format("unknown class folder \"{}\" (known: {})", name,
                                                    fmt::join(fer2013_class_names(), ", ")));
        continue;
      }
      if (files.empty()) {
        images.fail(class_dir.string(), "empty class folder (no .png, .jpg, .tiff or .bmp)");
        continue;
      }
      for (const fs::path& f : files) images.add_file(f, *emotion, "", hint);
    }
  }
  return images.take();
}

}  // namespace

Crop crop_from_string(const std::string& text) {
  if (text == "none") return Crop::kNone;
  if (text == "face") return Crop::kFace;
  throw InputError("crop: unknown \"" + text + "\" (none, face)");
}

SourceImages load_source(const SourceSpec& spec, int image_size, Crop crop) {
  if (!fs::exists(spec.path)) throw InputError(spec.path + ": no such file or directory");
  SourceImages images;
  if (spec.format == "fer2013") {
    images = load_fer2013(spec, image_size, crop);
  } else if (spec.format == "ckplus") {
    images = load_ckplus(spec, image_size, crop);
  } else if (spec.format == "jaffe") {
    images = load_jaffe(spec, image_size, crop);
  } else if (spec.format == "folders") {
    images = load_folders(spec, image_size, crop);
  } else {
    throw InputError(fmt::format("source \"{}\": unknown format \"{}\" (known: {})", spec.name,
                                 spec.format, fmt::join(source_formats(), ", ")));
  }
  if (images.size() == 0) {
    throw InputError(fmt::format("{}: no usable images in this {} source", spec.path, spec.format));
  }
  return images;
}

SourceImages load_image_files(const std::vector<std::string>& files, int image_size, Crop crop) {
  const SourceSpec strict;  // skip_bad false: a bad file is an error
  Collector collector(strict, image_size, crop);
  for (const auto& file : files) {
    if (!fs::is_regular_file(file)) throw InputError(fmt::format("{}: no such image file", file));
    collector.add_file(file, -1, "", SplitHint::kNone);
  }
  return collector.take();
}

}  // namespace fersweep::data
