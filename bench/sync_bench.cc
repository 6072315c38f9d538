// Gradient synchronisation cost in a gang, on the seed's modified VGG (filters 32/64/128/256,
// dense 64-64 with batch-norm, 48x48 grey images, 7 classes): step time alone, then with the
// gradients summed across the gang per parameter and in buckets. Run under mpiexec:
//
//   mpiexec -n 2 build/bench/sync_bench [--batch 64] [--steps 20] [--threads 1] [--adam 1]
//                                        [--nccl 1]
//
// --batch is the global batch; each rank trains on its half. Rank 0 prints a Markdown table.
// --nccl 1 trains on GPU r of the node on rank r and sums through the NCCL communicator (at
// world size 1 too: a real step through NCCL, which a gang of one would not use).
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "comm/mpi_checked.h"
#include "common/heap.h"
#include "models/model.h"
#include "parallel/backends.h"
#include "parallel/communicator.h"
#include "parallel/gradient_sync.h"
#include "parallel/shard.h"
#include "worker/torch_runner.h"

namespace {

using namespace fersweep;

struct Settings {
  int batch = 64;
  int steps = 20;
  int threads = 1;
  bool adam = false;  // Adam instead of SGD with momentum
  bool nccl = false;  // the NCCL communicator and a GPU per rank instead of MPI on the CPU
};

// Host clocks time GPU work only once the queued kernels have run.
void wait_for_device(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int value = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch"))
      s.batch = value;
    else if (!std::strcmp(argv[i], "--steps"))
      s.steps = value;
    else if (!std::strcmp(argv[i], "--threads"))
      s.threads = value;
    else if (!std::strcmp(argv[i], "--adam"))
      s.adam = value != 0;
    else if (!std::strcmp(argv[i], "--nccl"))
      s.nccl = value != 0;
    else
      throw std::invalid_argument(fmt::format("unknown option {}", argv[i]));
  }
  if (s.batch < 2 || s.steps < 1 || s.threads < 1) throw std::invalid_argument("bad settings");
  return s;
}

struct Mode {
  std::string name;
  bool sync;
  parallel::GradientSync::Options options;
};

// Seconds per step, the mean over `steps` after two warm-up steps.
double seconds_per_step(models::Classifier& model, parallel::Communicator& gang, const Mode& mode,
                        const torch::Tensor& x, const torch::Tensor& y, int steps, bool adam) {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (adam) {
    optimizer =
        std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(model->parameters(),
                                                    torch::optim::SGDOptions(0.01).momentum(0.9));
  }
  std::optional<parallel::GradientSync> sync;
  if (mode.sync) sync.emplace(gang, model->parameters(), mode.options);
  auto step = [&] {
    optimizer->zero_grad();
    if (sync) sync->begin_step();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    if (sync) sync->finish_step();
    optimizer->step();
  };
  step();
  step();
  wait_for_device(x.device());
  std::vector<double> ready{0.0};
  gang.sum(ready);  // start timing together
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  wait_for_device(x.device());
  std::vector<double> elapsed{
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  gang.sum(elapsed);
  return elapsed[0] / gang.size() / steps;
}

// Milliseconds to sum the model's gradients across the gang alone, without compute: one sum per
// parameter against one per bucket. The mean of `repeats`.
double sum_only_ms(models::Classifier& model, parallel::Communicator& gang, int64_t bucket_bytes,
                   int repeats, const torch::Device& device) {
  const auto on_device = torch::TensorOptions().device(device);
  std::vector<torch::Tensor> flats;
  int64_t floats = 0;
  for (const auto& p : model->parameters()) {
    if (bucket_bytes == 0) {
      flats.push_back(torch::ones({p.numel()}, on_device));
    } else {
      floats += p.numel();
    }
  }
  if (bucket_bytes != 0) flats.push_back(torch::ones({floats}, on_device));
  std::vector<double> ready{0.0};
  gang.sum(ready);
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r) {
    std::vector<std::unique_ptr<parallel::PendingSum>> pending;
    for (auto& flat : flats) pending.push_back(gang.start_sum(flat));
    for (auto& p : pending) p->wait();
  }
  wait_for_device(device);
  std::vector<double> elapsed{
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  gang.sum(elapsed);
  return 1e3 * elapsed[0] / gang.size() / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(argc, argv);
  try {
    const Settings settings = parse(argc, argv);
    torch::set_num_threads(settings.threads);
    const mpi::Comm world = mpi::Comm::world();
    // With --nccl, rank r trains on GPU r of its node: one node, as mpirun -n <GPUs> starts it.
    const torch::Device device =
        settings.nccl ? torch::Device(torch::kCUDA, static_cast<int8_t>(world.rank()))
                      : torch::Device(torch::kCPU);
    const auto gang = settings.nccl ? parallel::make_nccl_communicator(world, world.rank())
                                    : parallel::make_mpi_communicator(world);
    TrialConfig config;
    config.dense = {64, 64};
    config.dense_batch_norm = true;
    torch::manual_seed(1);
    models::Classifier model = models::make_model(models::model_options(config, 7, 48));
    // The trainer's own settings, so that "compute only" is the step a trial really runs.
    models::use_channels_last(*model);
    keep_freed_memory_for_reuse();
    model->to(device);
    const int64_t params = models::trainable_parameters(*model);
    const parallel::Shard shard = parallel::shard_of(settings.batch, gang->rank(), gang->size());
    const torch::Tensor x = torch::randn({shard.count, 1, 48, 48}).to(device);
    const torch::Tensor y = torch::randint(0, 7, {shard.count}).to(device);

    const std::vector<Mode> modes = {
        {"no sync (compute only)", false, {}},
        {"per parameter", true, {.bucket_bytes = 0}},
        {"buckets of 1 MiB", true, {.bucket_bytes = 1 << 20}},
        {"buckets of 25 MiB (default)", true, {.bucket_bytes = 25 << 20}},
        {"25 MiB, after backward (no overlap)", true, {.bucket_bytes = 25 << 20, .overlap = false}},
    };
    std::vector<double> times;
    for (const Mode& mode : modes) {
      times.push_back(seconds_per_step(model, *gang, mode, x, y, settings.steps, settings.adam));
    }
    const double per_parameter_ms = sum_only_ms(model, *gang, 0, 50, device);
    const double one_bucket_ms = sum_only_ms(model, *gang, 25 << 20, 50, device);
    if (gang->rank() == 0) {
      fmt::print(
          "modified VGG, {} parameters ({:.1f} MiB of gradients); {} ranks x {} thread(s), "
          "{} backend on {}, global batch {} ({} per rank), {} steps\n\n",
          params, params * 4.0 / (1 << 20), gang->size(), settings.threads, gang->backend(),
          device.str(), settings.batch, shard.count, settings.steps);
      fmt::print("| gradient sync | buckets | ms per step | sync share of the step |\n");
      fmt::print("|---|---:|---:|---:|\n");
      for (size_t i = 0; i < modes.size(); ++i) {
        std::string buckets = "-";
        if (modes[i].sync) {
          parallel::GradientSync probe(*gang, model->parameters(), modes[i].options);
          buckets = std::to_string(probe.bucket_count());
        }
        const double share = (times[i] - times[0]) / times[i];
        fmt::print("| {} | {} | {:.1f} | {} |\n", modes[i].name, buckets, times[i] * 1e3,
                   i == 0 ? std::string("-") : fmt::format("{:.1f} %", 100 * share));
      }
      fmt::print(
          "\nsumming all gradients alone (no compute), mean of 50: per parameter {:.2f} ms, "
          "one bucket {:.2f} ms ({:.1f} % and {:.1f} % of the compute-only step)\n",
          per_parameter_ms, one_bucket_ms, 100 * per_parameter_ms / (times[0] * 1e3),
          100 * one_bucket_ms / (times[0] * 1e3));
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sync_bench: {}\n", e.what());
    return 2;
  }
}
