#include "common/data_config.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"

namespace fersweep {
namespace {

using Json = nlohmann::json;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

SourceSpec parse_source(const std::string& name, const Json& object, const std::string& path) {
  ObjectReader reader(object, path);
  SourceSpec s;
  s.name = name;
  s.format = reader.string("format");
  if (!contains(source_formats(), s.format)) {
    throw InputError(fmt::format("{}: unknown format \"{}\" (choose from {})",
                                 reader.path_of("format"), s.format,
                                 fmt::join(source_formats(), ", ")));
  }
  s.path = reader.string("path");
  s.skip_bad = reader.boolean("skip_bad", false);
  if (s.format == "ckplus") {
    s.peak_frames = reader.int_in("peak_frames", 1, 1000, s.peak_frames);
    s.first_frame_neutral = reader.boolean("first_frame_neutral", s.first_frame_neutral);
  }
  reader.reject_unknown_keys();
  return s;
}

}  // namespace

const std::vector<std::string>& source_formats() {
  static const std::vector<std::string> formats = {"fer2013", "ckplus", "jaffe", "folders"};
  return formats;
}

const std::vector<std::string>& builtin_grouping_names() {
  static const std::vector<std::string> names = {"fer7", "merge_anger_disgust", "no_disgust"};
  return names;
}

DataConfig DataConfig::from_spec(const Json& object, const std::string& path) {
  ObjectReader reader(object, path);
  DataConfig data;
  data.image_size = reader.int_in("image_size", 16, 512, data.image_size);
  data.seed = static_cast<uint64_t>(reader.integer("seed", static_cast<int64_t>(data.seed)));
  data.split = reader.string("split", data.split);
  if (data.split != "stratified" && data.split != "given" && data.split != "subject") {
    throw InputError(
        fmt::format("{}: unknown split \"{}\" (choose from stratified, given, subject)",
                    reader.path_of("split"), data.split));
  }
  data.val_fraction = reader.number("val_fraction", data.val_fraction);
  data.test_fraction = reader.number("test_fraction", data.test_fraction);
  if (data.val_fraction <= 0 || data.test_fraction < 0 ||
      data.val_fraction + data.test_fraction >= 1) {
    throw InputError(
        fmt::format("{}: val_fraction > 0, test_fraction >= 0 and their sum < 1, got {} and {}",
                    path, data.val_fraction, data.test_fraction));
  }
  if (const Json* sources = reader.find("sources")) {
    if (!sources->is_object() || sources->empty()) {
      throw InputError(reader.path_of("sources") + ": expected an object of named sources");
    }
    for (const auto& [name, source] : sources->items()) {
      data.sources[name] = parse_source(name, source, reader.path_of("sources") + "." + name);
    }
    data.source = "files";
    for (const char* synthetic_only : {"source", "train_size", "val_size"}) {
      if (reader.has(synthetic_only)) {
        throw InputError(
            fmt::format("{}: only for synthetic data; with sources, the files and "
                        "the split decide the sizes",
                        reader.path_of(synthetic_only)));
      }
    }
  } else {
    data.source = reader.string("source", data.source);
    if (data.source != "synthetic") {
      throw InputError(
          fmt::format("{}: unknown data source \"{}\" (\"synthetic\", or name "
                      "files in \"sources\")",
                      reader.path_of("source"), data.source));
    }
    data.train_size = reader.int_in("train_size", 1, 10'000'000, data.train_size);
    data.val_size = reader.int_in("val_size", 1, 10'000'000, data.val_size);
  }
  if (const Json* groupings = reader.find("groupings")) {
    if (!groupings->is_object())
      throw InputError(reader.path_of("groupings") + ": expected an object");
    for (const auto& [name, classes] : groupings->items()) {
      if (contains(builtin_grouping_names(), name)) {
        throw InputError(fmt::format("{}.{}: \"{}\" is a built-in grouping; choose another name",
                                     reader.path_of("groupings"), name, name));
      }
      data.groupings[name] = classes;  // checked by data::parse_grouping when the spec is read
    }
  }
  reader.reject_unknown_keys();
  return data;
}

void DataConfig::check_paths(const std::string& path) const {
  namespace fs = std::filesystem;
  for (const auto& [name, source] : sources) {
    const std::string field = fmt::format("{}.sources.{}.path", path, name);
    const fs::path where(source.path);
    const std::string shown =
        where.is_absolute() ? source.path
                            : fmt::format("{} (from {})", source.path, fs::current_path().string());
    std::error_code error;
    const fs::file_status status = fs::status(where, error);
    if (!fs::exists(status)) throw InputError(fmt::format("{}: {} does not exist", field, shown));
    const bool wants_file = source.format == "fer2013";
    if (wants_file && !fs::is_regular_file(status)) {
      throw InputError(
          fmt::format("{}: {} is not a file (a fer2013 source is its CSV file)", field, shown));
    }
    if (!wants_file && !fs::is_directory(status)) {
      throw InputError(fmt::format("{}: {} is not a directory (a {} source is a folder tree)",
                                   field, shown, source.format));
    }
  }
}

void to_json(Json& out, const SourceSpec& s) {
  out = {{"name", s.name},
         {"format", s.format},
         {"path", s.path},
         {"skip_bad", s.skip_bad},
         {"peak_frames", s.peak_frames},
         {"first_frame_neutral", s.first_frame_neutral}};
}

void from_json(const Json& in, SourceSpec& s) {
  in.at("name").get_to(s.name);
  in.at("format").get_to(s.format);
  in.at("path").get_to(s.path);
  in.at("skip_bad").get_to(s.skip_bad);
  in.at("peak_frames").get_to(s.peak_frames);
  in.at("first_frame_neutral").get_to(s.first_frame_neutral);
}

void to_json(Json& out, const DataConfig& d) {
  out = {{"source", d.source},
         {"train_size", d.train_size},
         {"val_size", d.val_size},
         {"image_size", d.image_size},
         {"seed", d.seed},
         {"sources", d.sources},
         {"groupings", d.groupings},
         {"split", d.split},
         {"val_fraction", d.val_fraction},
         {"test_fraction", d.test_fraction}};
}

void from_json(const Json& in, DataConfig& d) {
  in.at("source").get_to(d.source);
  in.at("train_size").get_to(d.train_size);
  in.at("val_size").get_to(d.val_size);
  in.at("image_size").get_to(d.image_size);
  in.at("seed").get_to(d.seed);
  in.at("sources").get_to(d.sources);
  in.at("groupings").get_to(d.groupings);
  in.at("split").get_to(d.split);
  in.at("val_fraction").get_to(d.val_fraction);
  in.at("test_fraction").get_to(d.test_fraction);
}

}  // namespace fersweep
