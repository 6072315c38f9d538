#pragma once
// Writes synthetic faces in the on-disk formats of the real data sets, so that every loader is
// exercised end to end on data the project makes (`fersweep data synth`).
//   fer2013  one CSV (emotion,pixels,Usage) of 48x48 faces; Usage 80/10/10 Training/Public/Private
//   ckplus   cohn-kanade-images/Sxxx/nnn/Sxxx_nnn_0000000k.png + Emotion/.../*_emotion.txt; a
//            sequence is one neutral frame then three of the emotion; every eighth is contempt;
//            frames are a third wider than high, as CK+'s 640x490
//   jaffe    KA.AN1.39.tiff style names, wide framing (shoulders, background) by default
//   folders  train/ val/ test/ (80/10/10), one folder per class, PNG
#include <cstdint>
#include <map>
#include <string>

#include "data/synthetic_faces.h"

namespace fersweep::data {

struct SynthWriteOptions {
  std::string format;
  std::string out;  // a file for fer2013, else a directory; parents are created
  int count = 700;  // faces (ckplus: about, rounded to whole sequences)
  uint64_t seed = 1;
  int image_size = 0;        // 0: the format's own (fer2013 48, ckplus 96, jaffe 256, folders 48)
  int framing = -1;          // -1: the format's own (jaffe wide, else close); else Framing
  double disgust_keep = -1;  // -1: the format's own (fer2013 0.1, as rare as FER2013's; else 1)
};

struct SynthWriteReport {
  int images = 0;
  std::map<std::string, int> per_class;  // images by canonical class name (and "Contempt")
};

SynthWriteReport write_synthetic(const SynthWriteOptions& options);

}  // namespace fersweep::data
