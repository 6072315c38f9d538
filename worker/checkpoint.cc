#include "worker/checkpoint.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "common/error.h"
#include "common/json_reader.h"
#include "worker/batches.h"

namespace fersweep::worker {
namespace {

namespace fs = std::filesystem;

void rename_into_place(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) {
    throw std::runtime_error(fmt::format("checkpoint: cannot rename {} to {}: {}", from.string(),
                                         to.string(), error.message()));
  }
}

fs::path checkpoint_base(const std::string& dir, int64_t trial_id) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    throw std::runtime_error(
        fmt::format("checkpoint: cannot create directory {}: {}", dir, error.message()));
  }
  return fs::path(dir) / fmt::format("trial_{:06d}", trial_id);
}

nlohmann::json read_description(const std::string& json_path) {
  const std::optional<std::string> text = file_text(json_path);
  if (!text) throw InputError(json_path + ": cannot open checkpoint description");
  return parse_json(*text, json_path);
}

}  // namespace

nlohmann::json to_json(const models::ModelOptions& o) {
  nlohmann::json out = {{"arch", o.arch},
                        {"in_channels", o.in_channels},
                        {"num_classes", o.num_classes},
                        {"image_size", o.image_size},
                        {"stem", models::to_string(o.stem)},
                        {"filters", o.filters},
                        {"convs_per_block", o.convs_per_block},
                        {"batch_norm", o.batch_norm},
                        {"dense", o.dense},
                        {"dense_batch_norm", o.dense_batch_norm},
                        {"width_multiplier", o.width_multiplier},
                        {"stochastic_depth", o.stochastic_depth}};
  out["dropout"] = o.dropout ? nlohmann::json(*o.dropout) : nlohmann::json();
  return out;
}

models::ModelOptions model_options_from_json(const nlohmann::json& in) {
  models::ModelOptions o;
  in.at("arch").get_to(o.arch);
  in.at("in_channels").get_to(o.in_channels);
  in.at("num_classes").get_to(o.num_classes);
  in.at("image_size").get_to(o.image_size);
  o.stem = models::stem_from_string(in.at("stem").get<std::string>());
  in.at("filters").get_to(o.filters);
  in.at("convs_per_block").get_to(o.convs_per_block);
  in.at("batch_norm").get_to(o.batch_norm);
  in.at("dense").get_to(o.dense);
  in.at("dense_batch_norm").get_to(o.dense_batch_norm);
  in.at("width_multiplier").get_to(o.width_multiplier);
  in.at("stochastic_depth").get_to(o.stochastic_depth);
  if (!in.at("dropout").is_null()) o.dropout = in.at("dropout").get<double>();
  return o;
}

std::string write_checkpoint_weights(const std::string& dir, int64_t trial_id, int epoch,
                                     const models::Classifier& model) {
  const fs::path weights =
      fmt::format("{}.e{:04d}.pt", checkpoint_base(dir, trial_id).string(), epoch);
  const fs::path tmp = weights.string() + ".tmp";
  torch::save(std::static_pointer_cast<torch::nn::Module>(model), tmp.string());
  rename_into_place(tmp, weights);
  return weights.string();
}

std::string commit_checkpoint(const std::string& dir, int64_t trial_id,
                              const std::string& weights_path, const nlohmann::json& description) {
  const fs::path json = checkpoint_base(dir, trial_id).string() + ".json";
  const fs::path json_tmp = json.string() + ".tmp";
  std::optional<fs::path> previous;
  if (fs::exists(json)) {
    try {
      previous = json.parent_path() / read_description(json.string()).value("weights", "");
    } catch (const InputError&) {  // unreadable: replaced below, and its weights are unknown
    }
  }
  nlohmann::json full = description;
  full["weights"] = fs::path(weights_path).filename().string();
  {
    std::ofstream out(json_tmp);
    out << full.dump(2) << '\n';
    if (!out) throw std::runtime_error("checkpoint: cannot write " + json_tmp.string());
  }
  rename_into_place(json_tmp, json);
  if (previous && previous->filename() != fs::path(weights_path).filename()) {
    std::error_code ignored;  // a leftover file wastes space but misleads no one
    fs::remove(*previous, ignored);
  }
  return json.string();
}

std::string save_checkpoint(const std::string& dir, int64_t trial_id,
                            const models::Classifier& model, const nlohmann::json& description) {
  const std::string weights =
      write_checkpoint_weights(dir, trial_id, description.at("epoch").get<int>(), model);
  return commit_checkpoint(dir, trial_id, weights, description);
}

BestModelKeeper::BestModelKeeper(const TrialAssignment& a, const models::ModelOptions& options,
                                 const std::vector<std::string>& class_names)
    : dir_(a.checkpoint_dir),
      trial_id_(a.trial_id),
      metric_(a.objective_metric),
      maximize_(a.maximize),
      description_({{"trial_id", a.trial_id},
                    {"params", a.params},
                    {"model", to_json(options)},
                    {"class_names", class_names},
                    {"data", a.data},
                    {"metric", a.objective_metric},
                    {"maximize", a.maximize}}) {}

void BestModelKeeper::observe(const EpochMetrics& epoch, const models::Classifier& model) {
  if (dir_.empty()) return;
  const std::optional<double> value = epoch.value(metric_);
  if (!value || !std::isfinite(*value)) return;
  if (best_ && (maximize_ ? *value <= *best_ : *value >= *best_)) return;
  best_ = value;
  description_["epoch"] = epoch.epoch;
  description_["value"] = *value;
  path_ = save_checkpoint(dir_, trial_id_, model, description_);
}

nlohmann::json BestModelKeeper::state() const {
  return {{"best", best_ ? nlohmann::json(*best_) : nlohmann::json()},
          {"path", path_},
          {"description", description_}};
}

void BestModelKeeper::restore(const nlohmann::json& state) {
  const nlohmann::json& saved = state.at("description");
  if (saved.value("trial_id", trial_id_) != trial_id_) {
    // Another trial's state (a PBT member loaded a top member's): that trial's best model is
    // its own. This trial's best is still the one it saved itself, if any; the description
    // keeps this trial's id and its new params.
    best_.reset();
    path_.clear();
    const fs::path own = checkpoint_base(dir_, trial_id_).string() + ".json";
    if (dir_.empty() || !fs::exists(own)) return;
    const nlohmann::json kept = read_description(own.string());
    if (kept.contains("value")) best_ = kept.at("value").get<double>();
    path_ = own.string();
    return;
  }
  if (!state.at("best").is_null()) best_ = state.at("best").get<double>();
  state.at("path").get_to(path_);
  description_ = state.at("description");
}

LoadedCheckpoint load_checkpoint(const std::string& json_path) {
  LoadedCheckpoint loaded;
  loaded.description = read_description(json_path);
  try {
    loaded.options = model_options_from_json(loaded.description.at("model"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(
        fmt::format("{}: not a fersweep checkpoint description ({})", json_path, e.what()));
  }
  const fs::path weights =
      fs::path(json_path).parent_path() / loaded.description.value("weights", std::string());
  loaded.model = models::make_model(loaded.options);
  try {
    auto module = std::static_pointer_cast<torch::nn::Module>(loaded.model);
    torch::load(module, weights.string());
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: cannot load the weights: {}", weights.string(),
                                 e.what_without_backtrace()));
  }
  loaded.model->eval();
  return loaded;
}

void export_model(const LoadedCheckpoint& checkpoint, const std::string& path) {
  const std::string tmp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    checkpoint.model->save(archive);
    archive.write(kDescriptionKey, c10::IValue(checkpoint.description.dump()));
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: cannot write: {}", path, e.what_without_backtrace()));
  }
  rename_into_place(tmp, path);
}

LoadedCheckpoint load_exported_model(const std::string& path) {
  if (!fs::is_regular_file(path)) throw InputError(fmt::format("{}: no such model file", path));
  LoadedCheckpoint loaded;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue text;
    if (!archive.try_read(kDescriptionKey, text) || !text.isString()) {
      throw InputError(fmt::format("{}: not a model exported by `fersweep export-model` (no {})",
                                   path, kDescriptionKey));
    }
    loaded.description = parse_json(text.toStringRef(), path + ": " + kDescriptionKey);
    loaded.options = model_options_from_json(loaded.description.at("model"));
    loaded.model = models::make_model(loaded.options);
    loaded.model->load(archive);
  } catch (const c10::Error& e) {
    throw InputError(
        fmt::format("{}: cannot load the model: {}", path, e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: bad model description ({})", path, e.what()));
  }
  loaded.model->eval();
  return loaded;
}

std::vector<std::vector<double>> predict_probabilities(models::ClassifierImpl& model,
                                                       const uint8_t* images, int64_t count,
                                                       int image_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Tensor batch = normalise(torch::from_blob(
      const_cast<uint8_t*>(images), {count, 1, image_size, image_size}, torch::kUInt8));
  const torch::Tensor probabilities =
      torch::softmax(model.forward(batch), 1).to(torch::kDouble).contiguous();
  std::vector<std::vector<double>> out(count);
  const double* p = probabilities.data_ptr<double>();
  const int64_t classes = probabilities.size(1);
  for (int64_t i = 0; i < count; ++i) out[i].assign(p + i * classes, p + (i + 1) * classes);
  return out;
}

}  // namespace fersweep::worker
