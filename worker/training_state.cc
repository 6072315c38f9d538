#include "worker/training_state.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <mutex>

#include <fmt/format.h>

#include "common/json_reader.h"

namespace fersweep::worker {
namespace {

constexpr const char* kProgressKey = "fersweep.progress";

std::string generator_key(int rank) {
  return fmt::format("fersweep.generator.{}", rank);
}

// LibTorch's CPU generator as bytes: what dropout and stochastic depth draw from.
std::string cpu_generator_state() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  const torch::Tensor state = generator.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                     static_cast<size_t>(state.numel()));
}

void restore_cpu_generator(const std::string& bytes) {
  torch::Tensor state = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

nlohmann::json progress_json(const TrialProgress& p, const TrainingSetup& setup,
                             const BestModelKeeper& keeper) {
  return {{"epoch", p.epoch},
          {"metrics", p.metrics},
          {"confusion", p.confusion},
          {"train_seconds", p.train_seconds},
          {"schedule", setup.schedule->state()},
          {"batches", setup.batches->random_state()},
          {"keeper", keeper.state()}};
}

}  // namespace

void save_training_state(const std::string& path, TrainingSetup& setup,
                         const TrialProgress& progress, const BestModelKeeper& keeper,
                         parallel::Communicator& gang) {
  // Every rank's generator, one broadcast from each: ranks draw differently (as under DDP).
  std::vector<std::string> generators(static_cast<size_t>(gang.size()));
  const std::string mine = cpu_generator_state();
  for (int rank = 0; rank < gang.size(); ++rank) {
    std::string state = rank == gang.rank() ? mine : std::string();
    gang.broadcast(state, rank);
    generators[static_cast<size_t>(rank)] = std::move(state);
  }
  if (gang.rank() != 0) return;
  torch::serialize::OutputArchive archive, model, optimizer;
  setup.model->save(model);
  setup.optimizer->save(optimizer);
  archive.write("model", model);
  archive.write("optimizer", optimizer);
  archive.write(kProgressKey, c10::IValue(progress_json(progress, setup, keeper).dump()));
  for (int rank = 0; rank < gang.size(); ++rank) {
    archive.write(generator_key(rank), c10::IValue(generators[static_cast<size_t>(rank)]));
  }
  archive.save_to(path);
}

TrialProgress load_training_state(const std::string& path, TrainingSetup& setup,
                                  BestModelKeeper& keeper, int rank) {
  try {
    torch::serialize::InputArchive archive, model, optimizer;
    archive.load_from(path);
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    setup.model->load(model);
    setup.optimizer->load(optimizer);
    c10::IValue text, generator;
    if (!archive.try_read(kProgressKey, text) || !archive.try_read(generator_key(rank), generator))
      throw std::runtime_error("not a fersweep training state, or one of another gang");
    const nlohmann::json saved = parse_json(text.toStringRef(), path);
    restore_cpu_generator(generator.toStringRef());
    setup.schedule->restore(saved.at("schedule"));
    setup.batches->restore_random_state(saved.at("batches").get<std::string>());
    keeper.restore(saved.at("keeper"));
    TrialProgress progress;
    saved.at("epoch").get_to(progress.epoch);
    saved.at("metrics").get_to(progress.metrics);
    saved.at("confusion").get_to(progress.confusion);
    saved.at("train_seconds").get_to(progress.train_seconds);
    return progress;
  } catch (const c10::Error& e) {
    throw std::runtime_error(
        fmt::format("training state {}: cannot load: {}", path, e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("training state {}: cannot load: {}", path, e.what()));
  }
}

}  // namespace fersweep::worker
