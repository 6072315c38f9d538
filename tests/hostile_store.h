#pragma once
// A sweep database whose every name and message is hostile: control characters (a terminal's
// escape sequences, a bell), markup, quotes, XML's forbidden characters and bytes that are not
// UTF-8 (a class folder named in Latin-1, an error quoting such a file). Class names, parameter
// names and values, metric names, the sweep's name and error messages all carry them; the
// results commands must show every one without breaking a terminal, JSON, CSV, HTML or SVG.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "results/store.h"

namespace fersweep::testing_hostile {

// Valid UTF-8 only: JSON (the spec, the params) cannot hold anything else.
inline const std::string kHostileJsonText = "x\x1b]0;owned\x07<script>alert('\"&')</script>\x01";
// Anything at all: names that reach the database from files and exceptions.
inline const std::string kHostileBytes = "caf\xe9 \x1b[2J\x0b<b>]]>--\xff";

inline void write_hostile_sweep(const std::string& path) {
  results::Store store(path);
  nlohmann::json spec = {{"name", kHostileJsonText}, {"note", kHostileJsonText}};
  const int64_t sweep =
      store.create_sweep({kHostileJsonText, "random", "val_accuracy", true, 1, 6, spec});
  const std::vector<std::string> classes = {"Angry" + kHostileBytes, "Dis\x07gust", "<Fear>&",
                                            std::string("nul\0byte", 8)};
  for (int number = 0; number < 6; ++number) {
    nlohmann::json params = {{"lr", 0.001 * (number + 1)},
                             {"arch", number % 2 ? kHostileJsonText : "vgg16"},
                             {"grouping\x1b[31m", kHostileJsonText + std::to_string(number)}};
    const int64_t id = store.add_trial(sweep, number, params, static_cast<uint64_t>(number));
    store.start_trial(id, 1);
    for (int epoch = 1; epoch <= 2; ++epoch) {
      store.record_epoch({id,
                          epoch,
                          0.5,
                          {{"val_accuracy", 0.1 * number + 0.05 * epoch},
                           {"val_loss", 2.0 - 0.1 * number},
                           {"metric" + kHostileBytes, 0.5}},
                          {}});
    }
    TrialResult result;
    result.trial_id = id;
    result.epochs_completed = 2;
    if (number == 5) {
      result.status = TrialStatus::kFailed;
      result.error = "cannot decode " + kHostileBytes + "</td></tr><script>";
      store.finish_trial(result, std::nullopt);
      continue;
    }
    result.class_names = classes;
    result.confusion = {3, 1, 0, 0, 1, 2, 1, 0, 0, 0, 4, 1, 0, 1, 0, 2};
    for (const auto& name : classes) result.per_class.push_back({name, 0.5, 0.5, 0.5, 4});
    result.final_metrics = {{"val_accuracy", 0.1 * number + 0.1},
                            {"val_loss", 2.0 - 0.1 * number},
                            {"metric" + kHostileBytes, 0.5}};
    store.finish_trial(result, 0.1 * number + 0.1);
  }
  store.finish_sweep(sweep, SweepStatus::kFinished);
}

}  // namespace fersweep::testing_hostile
