// `fersweep data`: write synthetic faces in the real formats, and count what a spec would train on.
#include <cstdint>
#include <cstdio>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/json_reader.h"
#include "data/dataset.h"
#include "data/synthetic_formats.h"
#include "search_spaces/spec.h"

namespace fersweep::cli {

const char* const kDataHelp = R"(usage: fersweep data synth --format F --out PATH [options]
       fersweep data inspect (SPEC | --format F --path PATH) [options]

synth    writes deterministic synthetic faces in a real data set's layout (docs/DATA.md):
  --format F         fer2013 (a CSV file), ckplus, jaffe or folders (directories)
  --out PATH         the file (fer2013) or directory to write
  --count N          faces (default 700)
  --seed S           (default 1)
  --image-size N     side in pixels (default: fer2013 48, ckplus 96, jaffe 256, folders 48)
  --framing F        close (the face fills the frame) or wide (shoulders and background);
                     default: wide for jaffe, close otherwise
  --disgust-keep X   share of Disgust draws kept, (0, 1]; default 0.1 for fer2013 (rare, as in
                     FER2013), 1 otherwise

inspect  loads the sources and prints images per source, split and class, plus what was
         skipped (skip_bad) or excluded (CK+ contempt):
  SPEC               a sweep spec: its data section (sources, groupings, split)
  --format, --path   or one source directly
  --grouping G       class grouping (default fer7)
  --crop C           none (the centre square) or face (around the detected face)
  --json             JSON instead of tables

options:
  -h, --help         this help
)";

namespace {

int synth(const Args& args) {
  args.expect_positionals(0, 0, "");
  data::SynthWriteOptions o;
  o.format = args.required_option("format");
  o.out = args.required_option("out");
  o.count = static_cast<int>(args.int_option("count", 1, 10'000'000).value_or(o.count));
  o.seed = static_cast<uint64_t>(args.int_option("seed", 0, INT64_MAX).value_or(1));
  o.image_size = static_cast<int>(args.int_option("image-size", 16, 1024).value_or(0));
  if (auto framing = args.option("framing")) {
    if (*framing != "close" && *framing != "wide") {
      throw InputError(fmt::format("--framing: unknown \"{}\" (close, wide)", *framing));
    }
    o.framing = static_cast<int>(*framing == "wide" ? data::Framing::kWide : data::Framing::kClose);
  }
  if (auto keep = args.option("disgust-keep")) {
    try {
      o.disgust_keep = std::stod(*keep);
    } catch (const std::exception&) {
      o.disgust_keep = 0;
    }
    if (!(o.disgust_keep > 0 && o.disgust_keep <= 1)) {
      throw InputError("--disgust-keep: expected a number in (0, 1], got " + *keep);
    }
  }
  const data::SynthWriteReport report = data::write_synthetic(o);
  fmt::print("wrote {} {} images to {}:", report.images, o.format, o.out);
  for (const auto& [name, count] : report.per_class) fmt::print(" {} {}", name, count);
  fmt::print("\n");
  return 0;
}

int inspect(const Args& args) {
  args.expect_positionals(0, 1, "[SPEC]");
  DataConfig config;
  if (!args.positionals().empty()) {
    if (args.option("format") || args.option("path")) {
      throw InputError("give a SPEC or --format and --path, not both");
    }
    config = search::load_spec_file(args.positionals()[0]).data;
    if (config.synthetic()) {
      throw InputError(args.positionals()[0] + ": data: no sources to inspect (synthetic data)");
    }
  } else {
    SourceSpec source;
    source.format = args.required_option("format");
    source.path = args.required_option("path");
    source.name = source.format;
    config.sources[source.name] = source;
    config.source = "files";
  }
  const data::Grouping grouping =
      data::resolve_grouping(config, args.option("grouping").value_or("fer7"));
  std::vector<data::SourceImages> loaded;
  loaded.reserve(config.sources.size());
  std::vector<std::pair<std::string, const data::SourceImages*>> chosen;
  for (const auto& [name, source] : config.sources) {
    loaded.push_back(data::load_source(
        source, config.image_size, data::crop_from_string(args.option("crop").value_or("none"))));
    chosen.emplace_back(name, &loaded.back());
  }
  const data::Splits splits = data::make_splits(chosen, grouping, config);
  if (args.flag("json")) {
    nlohmann::json out = {
        {"grouping", grouping.name}, {"classes", grouping.class_names}, {"counts", splits.counts}};
    for (size_t i = 0; i < chosen.size(); ++i) {
      out["sources"][chosen[i].first] = {{"images", loaded[i].size()},
                                         {"skipped_bad", loaded[i].skipped_bad},
                                         {"excluded", loaded[i].excluded},
                                         {"no_face", loaded[i].no_face},
                                         {"problems", loaded[i].problems}};
    }
    fmt::print("{}\n", json_text(out, 2));
    return 0;
  }
  fmt::print("grouping {}: {} classes, {} px, split {}\n", grouping.name, grouping.num_classes(),
             config.image_size, config.split);
  for (size_t i = 0; i < chosen.size(); ++i) {
    const auto& [name, images] = chosen[i];
    fmt::print(
        "\nsource {} ({}): {} images loaded, {} skipped as bad, {} excluded, {} without a "
        "detected face\n",
        name, config.sources.at(name).format, images->size(), images->skipped_bad, images->excluded,
        images->no_face);
    for (const auto& problem : images->problems) fmt::print("  skipped: {}\n", problem);
    fmt::print("  {:<16}{:>8}{:>8}{:>8}\n", "class", "train", "val", "test");
    const auto& counts =
        splits.counts.count(name) ? splits.counts.at(name) : decltype(splits.counts.at(name)){};
    for (const auto& cls : grouping.class_names) {
      auto get = [&](const char* part) {
        auto p = counts.find(part);
        if (p == counts.end()) return 0;
        auto c = p->second.find(cls);
        return c == p->second.end() ? 0 : c->second;
      };
      fmt::print("  {:<16}{:>8}{:>8}{:>8}\n", cls, get("train"), get("val"), get("test"));
    }
  }
  return 0;
}

}  // namespace

int data_command(const std::vector<std::string>& raw) {
  if (wants_help(raw) || raw.empty()) {
    std::fputs(kDataHelp, raw.empty() ? stderr : stdout);
    return raw.empty() ? kExitInputError : 0;
  }
  const std::string sub = raw[0];
  const std::vector<std::string> rest(raw.begin() + 1, raw.end());
  if (sub == "synth") {
    return synth(Args(rest, {},
                      {"format", "out", "count", "seed", "image-size", "framing", "disgust-keep"},
                      "fersweep data synth"));
  }
  if (sub == "inspect") {
    return inspect(
        Args(rest, {"json"}, {"format", "path", "grouping", "crop"}, "fersweep data inspect"));
  }
  throw InputError(fmt::format("data: unknown subcommand \"{}\" (synth, inspect)", sub));
}

}  // namespace fersweep::cli
