// `fersweep models`: what each network costs before a sweep commits to it.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/heap.h"
#include "common/json_reader.h"
#include "common/text.h"
#include "models/report.h"
#include "worker/torch_runner.h"

namespace fersweep::cli {

const char* const kModelsHelp = R"(usage: fersweep models [options]

For every architecture (or the one configuration given with --params): trainable parameters,
batch-norm buffers, forward FLOPs per image, training memory (fixed: weights and gradients; per
image: activations kept for the backward pass, measured by counting LibTorch's allocations), and
the measured time and peak tensor memory of one training step (forward, backward, Adam) on this
machine, and the process's peak resident memory (RSS) over those steps: what a worker needs. Architectures: docs/MODELS.md.

options:
  --arch A[,B...]    only these architectures (default: all)
  --stem S           imagenet, small or both (default both; vgg_custom has no stem)
  --params JSON      one configuration as a sweep's parameters, e.g.
                     '{"arch": "vgg_custom", "filters": [32, 64], "dense": [64]}'
  --classes K        output classes (default 7)
  --image-size N     input side in pixels (default 48)
  --batch B          images in the timed step (default 64); 0 skips timing
  --repeats R        timed steps after one warm-up, median reported (default 2)
  --threads N        LibTorch intra-op threads (default: all cores)
  --trace DIR        after the timed steps, run as many more under LibTorch's profiler and
                     write each network's operators to DIR/ARCH_STEM.json, a Chrome trace
                     (chrome://tracing or ui.perfetto.dev; bench/op_breakdown.py sums it)
  --json             JSON instead of a table
  -h, --help         this help
)";

namespace {

std::vector<TrialConfig> configs_to_report(const Args& args) {
  if (auto params = args.option("params")) {
    if (args.option("arch") || args.option("stem")) {
      throw InputError("--params: give arch and stem inside the JSON, not with --arch/--stem");
    }
    return {TrialConfig::from_params(parse_json(*params, "--params"))};
  }
  std::vector<std::string> archs = architecture_names();
  if (auto chosen = args.option("arch")) {
    archs = split(*chosen, ',');
    for (const auto& arch : archs) {
      if (auto problem = TrialConfig::parameter_problem("arch", arch); !problem.empty()) {
        throw InputError("--arch: " + problem);
      }
    }
  }
  const std::string stem = args.option("stem").value_or("both");
  if (stem != "imagenet" && stem != "small" && stem != "both") {
    throw InputError(
        fmt::format("--stem: unknown \"{}\" (choose from imagenet, small, both)", stem));
  }
  std::vector<TrialConfig> configs;
  for (const auto& arch : archs) {
    for (const char* s : {"imagenet", "small"}) {
      if (stem != "both" && stem != s) continue;
      // vgg_custom has no ImageNet stem to adapt: one row.
      if (arch == "vgg_custom" && !configs.empty() && configs.back().arch == arch) continue;
      TrialConfig c;
      c.arch = arch;
      c.stem = s;
      configs.push_back(c);
    }
  }
  return configs;
}

std::string si(double value) {
  if (value >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
  if (value >= 1e3) return fmt::format("{:.1f}k", value / 1e3);
  return fmt::format("{:.0f}", value);
}

constexpr double kMiB = 1024.0 * 1024.0;

// --trace's folder, checked before any network is built; empty without the option.
std::string trace_directory(const Args& args, int batch) {
  const std::optional<std::string> dir = args.option("trace");
  if (!dir) return "";
  if (batch == 0) throw InputError("--trace: needs timed steps, not --batch 0");
  std::error_code error;
  if (!std::filesystem::is_directory(*dir, error)) {
    throw InputError(fmt::format("--trace: {}: not a folder", *dir));
  }
  return *dir;
}

}  // namespace

int models_command(const std::vector<std::string>& raw) {
  if (wants_help(raw)) {
    std::fputs(kModelsHelp, stdout);
    return 0;
  }
  const Args args(
      raw, {"json"},
      {"arch", "stem", "params", "classes", "image-size", "batch", "repeats", "threads", "trace"},
      "fersweep models");
  args.expect_positionals(0, 0, "");
  const int classes = static_cast<int>(args.int_option("classes", 2, 100000).value_or(7));
  const int image_size = static_cast<int>(args.int_option("image-size", 16, 1024).value_or(48));
  const int batch = static_cast<int>(args.int_option("batch", 0, 1 << 16).value_or(64));
  const int repeats = static_cast<int>(args.int_option("repeats", 1, 1000).value_or(2));
  if (auto threads = args.int_option("threads", 1, 4096)) {
    worker::set_intra_op_threads(static_cast<int>(*threads));
  } else {
    worker::set_intra_op_threads(
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
  // The step is timed as a worker runs it, with the worker's allocator policy: without it the
  // depthwise networks spent about an eighth of a step faulting in fresh pages
  // (docs/BENCHMARKS.md).
  keep_freed_memory_for_reuse();
  std::vector<TrialConfig> configs = configs_to_report(args);
  const std::string trace_dir = trace_directory(args, batch);
  const bool json = args.flag("json");
  nlohmann::json rows = nlohmann::json::array();
  for (const TrialConfig& config : configs) {
    models::ModelReport r;
    try {
      r = models::report_model(
          config, classes, image_size, batch, repeats,
          trace_dir.empty() ? ""
                            : fmt::format("{}/{}_{}.json", trace_dir, config.arch, config.stem));
    } catch (const std::invalid_argument& e) {
      throw InputError(fmt::format("{}: {}", config.arch, e.what()));
    }
    rows.push_back(r);
    if (json) continue;
    if (rows.size() == 1) {
      fmt::print("{} classes, {}x{} px, 1 channel; step: batch {}, {} thread(s)\n", classes,
                 image_size, image_size, batch, worker::intra_op_threads());
      fmt::print("{:<16} {:<8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}\n", "arch", "stem",
                 "params", "FLOPs", "MiB/img", "fixedMiB", "step ms", "peak MiB", "RSS MiB");
    }
    fmt::print("{:<16} {:<8} {:>8} {:>8} {:>8.2f} {:>8.1f} {:>9} {:>9} {:>8}\n", r.arch, r.stem,
               si(static_cast<double>(r.parameters)), si(r.forward_flops), r.bytes_per_image / kMiB,
               r.fixed_bytes / kMiB, batch > 0 ? fmt::format("{:.1f}", r.step_seconds * 1e3) : "-",
               batch > 0 ? fmt::format("{:.0f}", r.step_peak_bytes / kMiB) : "-",
               batch > 0 && r.step_peak_rss_bytes > 0
                   ? fmt::format("{:.0f}", r.step_peak_rss_bytes / kMiB)
                   : "-");
    std::fflush(stdout);
  }
  if (json) fmt::print("{}\n", json_text(rows, 2));
  return 0;
}

}  // namespace fersweep::cli
