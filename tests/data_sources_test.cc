// Every loader end to end on the synthetic generator's own files: counts, labels and pixels must
// come back exactly; and every kind of bad input gets a message naming the file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/emotions.h"
#include "common/error.h"
#include "data/dataset.h"
#include "data/sources.h"
#include "data/synthetic_formats.h"
#include "tests/test_paths.h"

namespace fersweep::data {
namespace {

namespace fs = std::filesystem;

class DataSources : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_paths::test_scratch_path("data");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

SyntheticOptions faces(int count, int image_size, uint64_t seed) {
  SyntheticOptions o;
  o.count = count;
  o.image_size = image_size;
  o.seed = seed;
  return o;
}

// One string per image: label, split hint and pixels, so that sets compare regardless of order.
std::vector<std::string> fingerprints(const SourceImages& s) {
  std::vector<std::string> out;
  const size_t n = static_cast<size_t>(s.image_size) * s.image_size;
  for (size_t i = 0; i < s.size(); ++i) {
    out.push_back(std::to_string(s.emotions[i]) + "|" + std::to_string(int(s.hints[i])) + "|" +
                  std::string(reinterpret_cast<const char*>(s.image(i)), n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> fingerprints(const ImageSet& set, const std::vector<SplitHint>& hints) {
  SourceImages s;
  s.image_size = set.image_size;
  s.pixels = set.pixels;
  s.emotions = set.labels;
  s.hints = hints;
  return fingerprints(s);
}

SplitHint hint_of(size_t i) {
  return i % 10 < 8 ? SplitHint::kTrain : i % 10 == 8 ? SplitHint::kValidation : SplitHint::kTest;
}

TEST_F(DataSources, Fer2013RoundTripsExactlyWithUsageAsSplit) {
  const auto report = write_synthetic({"fer2013", path("fer.csv"), 300, 3});
  const SourceImages loaded = load_source({"fer", "fer2013", path("fer.csv")}, 48);
  SyntheticOptions o = faces(300, 48, 3);
  o.disgust_keep = 0.1;
  const ImageSet expected = generate_synthetic_faces(o);
  ASSERT_EQ(loaded.size(), 300u);
  EXPECT_EQ(loaded.emotions, expected.labels);
  EXPECT_EQ(loaded.pixels, expected.pixels);
  for (size_t i = 0; i < 300; ++i) EXPECT_EQ(loaded.hints[i], hint_of(i)) << i;
  // Disgust is rare, as in FER2013 (1.5 % there), but present.
  const int disgust = report.per_class.count("Disgust") ? report.per_class.at("Disgust") : 0;
  EXPECT_EQ(std::count(loaded.emotions.begin(), loaded.emotions.end(), kDisgust), disgust);
  EXPECT_LT(disgust, 300 / 14);
}

TEST_F(DataSources, Fer2013AcceptsCrlfAndResizes) {
  write_synthetic({"fer2013", path("lf.csv"), 20, 4});
  std::ifstream in(path("lf.csv"));
  std::ofstream crlf(path("crlf.csv"), std::ios::binary);
  for (std::string line; std::getline(in, line);) crlf << line << "\r\n";
  crlf.close();
  EXPECT_EQ(load_source({"a", "fer2013", path("crlf.csv")}, 48).pixels,
            load_source({"b", "fer2013", path("lf.csv")}, 48).pixels);
  const SourceImages small = load_source({"c", "fer2013", path("crlf.csv")}, 24);
  EXPECT_EQ(small.image_size, 24);
  EXPECT_EQ(small.pixels.size(), 20u * 24 * 24);
}

TEST_F(DataSources, FoldersRoundTripExactlyWithTheirSplits) {
  write_synthetic({"folders", path("faces"), 90, 5});
  const SourceImages loaded = load_source({"f", "folders", path("faces")}, 48);
  const ImageSet expected = generate_synthetic_faces(faces(90, 48, 5));
  std::vector<SplitHint> hints;
  for (size_t i = 0; i < 90; ++i) hints.push_back(hint_of(i));
  EXPECT_EQ(fingerprints(loaded), fingerprints(expected, hints));
}

TEST_F(DataSources, JaffeRoundTripsExactlyWithSubjects) {
  SynthWriteOptions o{"jaffe", path("jaffe"), 40, 6};
  o.image_size = 64;
  write_synthetic(o);
  EXPECT_TRUE(fs::exists(path("jaffe")));
  const SourceImages loaded = load_source({"j", "jaffe", path("jaffe")}, 64);
  SyntheticOptions s = faces(40, 64, 6);
  s.identities = 10;
  s.framing = Framing::kWide;
  const ImageSet expected = generate_synthetic_faces(s);
  EXPECT_EQ(fingerprints(loaded), fingerprints(expected, std::vector(40, SplitHint::kNone)));
  for (const auto& subject : loaded.subjects) EXPECT_EQ(subject.size(), 2u) << subject;
}

TEST_F(DataSources, CkPlusTakesPeakFramesAndFirstNeutralAndExcludesContempt) {
  SynthWriteOptions o{"ckplus", path("ck"), 40, 7};
  o.image_size = 48;
  const auto report = write_synthetic(o);
  ASSERT_EQ(report.images, 40);  // 10 sequences of 4 frames; the eighth is contempt
  const SourceImages loaded = load_source({"ck", "ckplus", path("ck")}, 48);
  EXPECT_EQ(loaded.excluded, 3);
  EXPECT_EQ(loaded.size(), 9u * 3 + 10);
  EXPECT_EQ(std::count(loaded.emotions.begin(), loaded.emotions.end(), kNeutral), 10);
  // Frames are wider than high; the centre square is exactly the generated face.
  SyntheticOptions s = faces(0, 48, 7);
  for (int q = 0; q < 10; ++q) {
    const int emotion = q % 7 == 6 ? kHappy : q % 7;
    s.labels.insert(s.labels.end(), {kNeutral, emotion, emotion, emotion});
    s.people.insert(s.people.end(), 4, q / 3);
  }
  const ImageSet all = generate_synthetic_faces(s);
  ImageSet kept;
  kept.image_size = 48;
  for (int q = 0; q < 10; ++q) {
    for (int f = 0; f < 4; ++f) {
      if (q == 7 && f > 0) continue;  // contempt peaks are excluded
      const size_t i = static_cast<size_t>(q * 4 + f);
      kept.labels.push_back(all.labels[i]);
      kept.pixels.insert(kept.pixels.end(), all.image(i), all.image(i) + 48 * 48);
    }
  }
  EXPECT_EQ(fingerprints(loaded), fingerprints(kept, std::vector(37, SplitHint::kNone)));
  EXPECT_EQ(loaded.subjects.front(), "S010");

  SourceSpec one_peak{"ck", "ckplus", path("ck")};
  one_peak.peak_frames = 1;
  one_peak.first_frame_neutral = false;
  EXPECT_EQ(load_source(one_peak, 48).size(), 9u);
}

// JAFFE-like wide portraits: the face crop finds most faces and zooms in on them.
TEST_F(DataSources, FaceCropFindsMostWideFramedFacesAndZoomsIn) {
  write_synthetic({"jaffe", path("jaffe"), 30, 8});
  const SourceSpec spec{"j", "jaffe", path("jaffe")};
  const SourceImages centre = load_source(spec, 48, Crop::kNone);
  const SourceImages face = load_source(spec, 48, Crop::kFace);
  EXPECT_EQ(centre.no_face, 0);
  EXPECT_LE(face.no_face, 9) << "Haar found too few synthetic faces";
  ASSERT_EQ(face.size(), centre.size());
  EXPECT_EQ(face.emotions, centre.emotions);
  // Found faces fill the frame, so the cropped images are no copies of the centre squares, and a
  // second load gives the same pixels.
  size_t differing = 0;
  for (size_t i = 0; i < face.size(); ++i) {
    differing += !std::equal(face.image(i), face.image(i) + 48 * 48, centre.image(i));
  }
  EXPECT_EQ(differing, face.size() - face.no_face);
  EXPECT_EQ(load_source(spec, 48, Crop::kFace).pixels, face.pixels);
  EXPECT_THROW(crop_from_string("eyes"), InputError);
}

struct BadCase {
  std::string name;
  std::function<SourceSpec(const std::string& dir)> make;  // writes the bad input
  std::string fragment;                                    // `{dir}` stands for the directory
};

void write_text(const std::string& file, const std::string& text) {
  fs::create_directories(fs::path(file).parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::string pixels(int count, const std::string& value = "7") {
  std::string out;
  for (int i = 0; i < count; ++i) out += (i ? " " : "") + value;
  return out;
}

SourceSpec fer_csv(const std::string& dir, const std::string& body) {
  write_text(dir + "/fer.csv", "emotion,pixels,Usage\n" + body);
  return {"fer", "fer2013", dir + "/fer.csv"};
}

const BadCase kBadCases[] = {
    {"missing_path",
     [](const std::string& d) {
       return SourceSpec{"x", "fer2013", d + "/no.csv"};
     },
     "{dir}/no.csv: no such file or directory"},
    {"bad_header",
     [](const std::string& d) {
       write_text(d + "/fer.csv", "label,pixels\n");
       return SourceSpec{"fer", "fer2013", d + "/fer.csv"};
     },
     "{dir}/fer.csv:1: expected the header emotion,pixels,Usage"},
    {"truncated_row",
     [](const std::string& d) { return fer_csv(d, "3," + pixels(2304) + ",Training\n4,"); },
     "{dir}/fer.csv:3: expected 3 fields, got 2"},
    {"short_pixels",
     [](const std::string& d) { return fer_csv(d, "3," + pixels(2303) + ",Training\n"); },
     "{dir}/fer.csv:2: expected 2304 pixel values, got 2303"},
    {"non_numeric_pixel",
     [](const std::string& d) {
       return fer_csv(d, "3," + pixels(5) + " x7 " + pixels(2298) + ",Training\n");
     },
     "{dir}/fer.csv:2: pixel 6 is \"x7\", not an integer 0-255"},
    {"pixel_range",
     [](const std::string& d) { return fer_csv(d, "3," + pixels(2304, "256") + ",Training\n"); },
     "{dir}/fer.csv:2: pixel 1 is \"256\""},
    {"unknown_label",
     [](const std::string& d) { return fer_csv(d, "9," + pixels(2304) + ",Training\n"); },
     "{dir}/fer.csv:2: emotion must be an integer 0-6, got \"9\""},
    {"unknown_usage",
     [](const std::string& d) { return fer_csv(d, "1," + pixels(2304) + ",Validation\n"); },
     "{dir}/fer.csv:2: unknown Usage \"Validation\""},
    {"empty_csv",
     [](const std::string& d) {
       write_text(d + "/fer.csv", "");
       return SourceSpec{"fer", "fer2013", d + "/fer.csv"};
     },
     "{dir}/fer.csv:1: empty file"},
    {"only_header", [](const std::string& d) { return fer_csv(d, ""); },
     "{dir}/fer.csv: no usable images in this fer2013 source"},
    {"unknown_class_folder",
     [](const std::string& d) {
       write_synthetic({"folders", d + "/f", 10, 1});
       fs::create_directories(d + "/f/train/bored");
       return SourceSpec{"f", "folders", d + "/f"};
     },
     "{dir}/f/train/bored: unknown class folder \"bored\""},
    {"empty_class_folder",
     [](const std::string& d) {
       fs::create_directories(d + "/f/happy");
       return SourceSpec{"f", "folders", d + "/f"};
     },
     "{dir}/f/happy: empty class folder"},
    {"corrupt_image",
     [](const std::string& d) {
       write_text(d + "/f/sad/broken.png", "\x89PNG\r\n\x1a\n garbage");
       return SourceSpec{"f", "folders", d + "/f"};
     },
     "{dir}/f/sad/broken.png: cannot decode the image"},
    {"jaffe_name",
     [](const std::string& d) {
       write_synthetic({"jaffe", d + "/j", 3, 1, 32});
       fs::copy_file(d + "/j/" + fs::directory_iterator(d + "/j")->path().filename().string(),
                     d + "/j/KA.XX1.99.tiff");
       return SourceSpec{"j", "jaffe", d + "/j"};
     },
     "{dir}/j/KA.XX1.99.tiff: not a JAFFE name"},
    {"ckplus_layout",
     [](const std::string& d) {
       fs::create_directories(d + "/ck/cohn-kanade-images");
       return SourceSpec{"ck", "ckplus", d + "/ck"};
     },
     "{dir}/ck/Emotion: no such directory (CK+ layout)"},
    {"ckplus_code",
     [](const std::string& d) {
       write_synthetic({"ckplus", d + "/ck", 8, 1, 32});
       write_text(d + "/ck/Emotion/S010/001/S010_001_00000004_emotion.txt", "happy\n");
       return SourceSpec{"ck", "ckplus", d + "/ck"};
     },
     "{dir}/ck/Emotion/S010/001/S010_001_00000004_emotion.txt:1: expected an emotion code 0-7"},
    {"ckplus_no_frames",
     [](const std::string& d) {
       write_synthetic({"ckplus", d + "/ck", 8, 1, 32});
       fs::remove_all(d + "/ck/cohn-kanade-images/S010/002");
       return SourceSpec{"ck", "ckplus", d + "/ck"};
     },
     "{dir}/ck/cohn-kanade-images/S010/002: no frames for this labelled sequence"},
    {"unknown_format",
     [](const std::string& d) {
       return SourceSpec{"x", "affectnet", d};
     },
     "source \"x\": unknown format \"affectnet\""},
};

TEST_F(DataSources, BadInputNamesTheFileAndLine) {
  for (const BadCase& c : kBadCases) {
    const std::string dir = path(c.name);
    fs::create_directories(dir);
    const SourceSpec spec = c.make(dir);
    std::string fragment = c.fragment;
    if (const auto at = fragment.find("{dir}"); at != std::string::npos)
      fragment.replace(at, 5, dir);
    try {
      load_source(spec, 48);
      ADD_FAILURE() << c.name << ": no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << c.name << ": " << e.what();
    }
  }
}

TEST_F(DataSources, SkipBadSkipsAndCountsInsteadOfFailing) {
  SourceSpec spec =
      fer_csv(path(""), "3," + pixels(2304) + ",Training\n" + "9," + pixels(2304) + ",Training\n" +
                            "4,1 2 3,Training\n" + "5," + pixels(2304) + ",PrivateTest\n");
  EXPECT_THROW(load_source(spec, 48), InputError);
  spec.skip_bad = true;
  const SourceImages s = load_source(spec, 48);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.skipped_bad, 2);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_NE(s.problems[0].find("fer.csv:3: emotion must be"), std::string::npos) << s.problems[0];
  EXPECT_NE(s.problems[1].find("fer.csv:4: expected 2304 pixel values, got 3"), std::string::npos);
  EXPECT_EQ(s.emotions, (std::vector<int>{3, 5}));
}

// A source of `n` 4x4 images whose pixels encode their index, emotions cycling 0..6.
SourceImages numbered_source(int n, uint8_t tag) {
  SourceImages s;
  s.image_size = 4;
  for (int i = 0; i < n; ++i) {
    for (int p = 0; p < 16; ++p) s.pixels.push_back(p == 0 ? tag : static_cast<uint8_t>(i % 256));
    s.emotions.push_back(i % kEmotionCount);
    s.subjects.emplace_back();
    s.hints.push_back(i % 5 == 0 ? SplitHint::kTest : SplitHint::kTrain);
  }
  return s;
}

std::set<std::string> images_of(const ImageSet& set) {
  std::set<std::string> out;
  for (size_t i = 0; i < set.size(); ++i) {
    out.insert(std::string(reinterpret_cast<const char*>(set.image(i)), set.pixels_per_image()));
  }
  return out;
}

TEST(Splits, StratifiedPerClassAndStableAcrossGroupingsAndSources) {
  const SourceImages fer = numbered_source(700, 1), ck = numbered_source(140, 2);
  DataConfig config;
  config.image_size = 4;
  config.seed = 9;
  const Grouping fer7 = resolve_grouping(config, "fer7");
  const Grouping merged = resolve_grouping(config, "merge_anger_disgust");
  const Splits a = make_splits({{"fer", &fer}}, fer7, config);
  EXPECT_EQ(a.train.size() + a.val.size() + a.test.size(), 700u);
  for (const auto& cls : fer7.class_names) {  // 100 per class: 15 / 15 / 70
    EXPECT_EQ(a.counts.at("fer").at("val").at(cls), 15) << cls;
    EXPECT_EQ(a.counts.at("fer").at("test").at(cls), 15) << cls;
    EXPECT_EQ(a.counts.at("fer").at("train").at(cls), 70) << cls;
  }
  EXPECT_EQ(a.val.class_names, fer7.class_names);
  // The same FER images are validation images whatever the grouping and the other sources.
  const Splits b = make_splits({{"fer", &fer}}, merged, config);
  const Splits c = make_splits({{"ck", &ck}, {"fer", &fer}}, fer7, config);
  EXPECT_EQ(images_of(a.val), images_of(b.val));
  std::set<std::string> fer_in_c;
  for (const auto& image : images_of(c.val)) {
    if (image[0] == 1) fer_in_c.insert(image);
  }
  EXPECT_EQ(images_of(a.val), fer_in_c);
  EXPECT_EQ(b.val.class_names.front(), "Angry+Disgust");
  EXPECT_EQ(b.counts.at("fer").at("val").at("Angry+Disgust"), 30);
  // Another seed, another split.
  config.seed = 10;
  EXPECT_NE(images_of(make_splits({{"fer", &fer}}, fer7, config).val), images_of(a.val));
}

TEST(Splits, GivenKeepsTheSourcesOwnSplitAndDropsUngroupedClasses) {
  const SourceImages fer = numbered_source(70, 1);
  DataConfig config;
  config.image_size = 4;
  config.split = "given";
  const Splits s = make_splits({{"fer", &fer}}, resolve_grouping(config, "no_disgust"), config);
  EXPECT_EQ(s.test.size(), 12u);   // every fifth image, less the two Disgust ones (15 and 50)
  EXPECT_EQ(s.train.size(), 48u);  // the rest, less the eight other Disgust images
  EXPECT_EQ(s.val.size(), 0u);
  EXPECT_THROW(resolve_grouping(config, "valence"), InputError);
}

TEST(Splits, SubjectSplitHoldsOutWholePeople) {
  SourceImages s = numbered_source(200, 1);
  for (size_t i = 0; i < s.size(); ++i) s.subjects[i] = "S" + std::to_string(i % 20);
  DataConfig config;
  config.image_size = 4;
  config.split = "subject";
  const Splits splits = make_splits({{"ck", &s}}, resolve_grouping(config, "fer7"), config);
  EXPECT_EQ(splits.val.size(), 30u);  // 3 of 20 people (15 %), 10 images each
  EXPECT_EQ(splits.test.size(), 30u);
  EXPECT_EQ(splits.train.size(), 140u);
  // Image i shows person i % 20 and carries i % 256 in its pixels: no person is in two splits.
  std::map<int, std::set<int>> parts_of_person;
  const ImageSet* parts[] = {&splits.train, &splits.val, &splits.test};
  for (int part = 0; part < 3; ++part) {
    for (size_t k = 0; k < parts[part]->size(); ++k) {
      parts_of_person[parts[part]->image(k)[1] % 20].insert(part);
    }
  }
  ASSERT_EQ(parts_of_person.size(), 20u);
  for (const auto& [person, in] : parts_of_person) EXPECT_EQ(in.size(), 1u) << person;
}

TEST(Groupings, BuiltinsAndUserGroupingsMapEveryEmotion) {
  const auto& builtins = builtin_groupings();
  ASSERT_EQ(builtins.size(), 3u);
  const Grouping& merged = builtins[1];
  EXPECT_EQ(merged.name, "merge_anger_disgust");
  EXPECT_EQ(merged.num_classes(), 6);
  EXPECT_EQ(merged.class_of[kAngry], merged.class_of[kDisgust]);
  EXPECT_EQ(builtins[2].class_of[kDisgust], -1);

  const Grouping valence = parse_grouping(
      "valence", {{"negative", {"angry", "Disgusted", "fear", "sadness"}}, {"positive", {"happy"}}},
      "data.groupings.valence");
  EXPECT_EQ(valence.class_names, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(valence.class_of[kSad], 0);
  EXPECT_EQ(valence.class_of[kHappy], 1);
  EXPECT_EQ(valence.class_of[kNeutral], -1);
  try {
    parse_grouping("g", {{"a", {"happy"}}, {"b", {"joy"}}}, "data.groupings.g");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.groupings.g.b: unknown emotion \"joy\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_grouping("g", {{"a", {"happy"}}, {"b", {"happy"}}}, "p"), InputError);
}

}  // namespace
}  // namespace fersweep::data
