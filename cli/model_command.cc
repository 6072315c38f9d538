// `fersweep export-model` and `fersweep predict`: from a sweep's database to a usable model.
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "results/queries.h"
#include "worker/predict.h"

namespace fersweep::cli {

const char* const kExportModelHelp =
    R"(usage: fersweep export-model --db DB --trial best|ID --out MODEL.pt|MODEL.onnx
                             [--format torch|onnx]

Writes a trial's best checkpoint as one file: the weights and everything needed to use the
network (architecture, sizes, class names, the data preparation, the trial's params and metrics).

options:
  --db DB              the sweep database
  --trial best|ID      the best finished trial of the sweep by its objective, or a trial id
  --sweep ID           which sweep `best` is taken from (default: the newest)
  --out FILE           the file to write
  --format torch|onnx  torch: a LibTorch archive for `fersweep predict`; onnx: an ONNX model
                       (opset 10) for onnxruntime, OpenCV DNN, the browser, and `predict`.
                       Default: onnx when FILE ends in .onnx, else torch. See docs/RESULTS.md.
  --json               print the model's description as JSON
)";

const char* const kPredictHelp =
    R"(usage: fersweep predict --model MODEL.pt|MODEL.onnx [--crop none|face] [--json] IMAGE...

Classifies image files (PNG, JPEG, TIFF, ...) with an exported model: a LibTorch export runs in
LibTorch, an .onnx one in OpenCV's DNN module. Each image is prepared as the trial's data was:
grayscale, cropped (the trial's `crop`, unless --crop says otherwise) and resized to the model's
input size. Prints the most likely emotion and the distribution.
)";

int export_model_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kExportModelHelp, stdout);
    return 0;
  }
  const Args args(raw, {"json"}, {"db", "trial", "sweep", "out", "format"},
                  "fersweep export-model");
  args.expect_positionals(0, 0, "");
  const std::string which = args.required_option("trial");
  const std::string out = args.required_option("out");
  worker::ModelFormat format = worker::model_format_of(out);
  if (const std::optional<std::string> named = args.option("format")) {
    if (*named != "torch" && *named != "onnx") {
      throw InputError(fmt::format("--format: expected torch or onnx, got \"{}\"", *named));
    }
    format = *named == "onnx" ? worker::ModelFormat::kOnnx : worker::ModelFormat::kTorch;
  }
  const results::Reader reader(args.required_option("db"));
  int64_t id = 0;
  if (which == "best") {
    const results::SweepSummary sweep = reader.sweep(args.int_option("sweep", 1, INT64_MAX));
    const auto ranked = reader.rank(sweep.id, sweep.metric, sweep.maximize, 1);
    if (ranked.empty()) throw InputError(fmt::format("sweep {}: no finished trial yet", sweep.id));
    id = ranked.front().id;
  } else {
    try {
      size_t used = 0;
      id = std::stoll(which, &used);
      if (used != which.size() || id < 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError(fmt::format("--trial: expected best or a trial id, got \"{}\"", which));
    }
  }
  const results::TrialDetail detail = reader.trial(id);
  const results::TrialSummary& trial = detail.trial;
  if (trial.checkpoint.empty()) {
    throw InputError(fmt::format(
        "trial {} kept no checkpoint (the sweep ran with --checkpoints none, or the trial "
        "failed before its first epoch)",
        trial.id));
  }
  const auto metrics_at = [&](int epoch) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const EpochMetrics& row : detail.epochs) {
      if (row.epoch == epoch) metrics = row.values;
    }
    return metrics;
  };
  const nlohmann::json description =
      worker::export_model_file(trial.checkpoint, out, format, metrics_at);
  if (args.flag("json")) {
    fmt::print("{}\n", json_text(description, 2));
  } else {
    fmt::print("wrote {} ({}): trial {} ({}, {} classes, {} px, {} = {:.4f} at epoch {})\n", out,
               format == worker::ModelFormat::kOnnx ? "onnx" : "torch", trial.id,
               description.at("model").at("arch").get<std::string>(),
               description.at("class_names").size(),
               description.at("model").at("image_size").get<int>(),
               description.value("metric", std::string("objective")),
               description.value("value", 0.0), description.value("epoch", 0));
  }
  return 0;
}

int predict_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kPredictHelp, stdout);
    return 0;
  }
  const Args args(raw, {"json"}, {"model", "crop"}, "fersweep predict");
  args.expect_positionals(1, SIZE_MAX, "IMAGE... (one or more image files)");
  const std::optional<std::string> crop = args.option("crop");
  if (crop && *crop != "none" && *crop != "face") {
    throw InputError(fmt::format("--crop: expected none or face, got \"{}\"", *crop));
  }
  const worker::Predictions p =
      worker::predict_files(args.required_option("model"), args.positionals(), crop);
  nlohmann::json rows = nlohmann::json::array();
  std::string table;
  for (size_t i = 0; i < p.probabilities.size(); ++i) {
    const auto& probs = p.probabilities[i];
    std::vector<size_t> order(probs.size());
    for (size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return probs[a] > probs[b]; });
    nlohmann::json distribution = nlohmann::json::object();
    for (size_t c = 0; c < probs.size(); ++c) distribution[p.class_names[c]] = probs[c];
    rows.push_back({{"image", args.positionals()[i]},
                    {"predicted", p.class_names[order[0]]},
                    {"probabilities", distribution}});
    std::string rest;
    for (size_t k = 1; k < std::min<size_t>(order.size(), 4); ++k) {
      rest += fmt::format("  {} {:.2f}", p.class_names[order[k]], probs[order[k]]);
    }
    table += fmt::format("{}: {} {:.2f}{}\n", args.positionals()[i], p.class_names[order[0]],
                         probs[order[0]], rest);
  }
  fmt::print("{}", args.flag("json") ? json_text(nlohmann::json{{"runtime", p.runtime},
                                                                {"crop", p.crop},
                                                                {"predictions", rows}},
                                                 2) +
                                           "\n"
                                     : table);
  return 0;
}

}  // namespace fersweep::cli
