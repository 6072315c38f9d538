#include "models/profile.h"

#include <ATen/Context.h>
#include <ATen/record_function.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/version.h>
#if FERSWEEP_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fersweep::models {
namespace {

// PyTorch 2.3 made Allocator::allocate non-const (the CUDA LibTorch of a GPU node is >= 2.7;
// Debian's is 1.13).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define FERSWEEP_ALLOCATE_CONST
#else
#define FERSWEEP_ALLOCATE_CONST const
#endif

// An allocator that keeps live and peak byte counts. oneDNN frees through raw_deleter(), which
// requires the context to be the data pointer itself, so sizes live in a side table.
class CountingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) FERSWEEP_ALLOCATE_CONST override {
    void* data = c10::alloc_cpu(bytes);
    {
      std::lock_guard lock(mutex_);
      sizes_[data] = bytes;
      live_ += static_cast<int64_t>(bytes);
      peak_ = std::max(peak_, live_);
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  // Pure virtual since PyTorch 2.1 (Allocator::clone copies through it); a plain member before,
  // hence no `override`.
  void copy_data(void* dest, const void* src, std::size_t count) const {
    std::memcpy(dest, src, count);
  }

  int64_t live() const {
    std::lock_guard lock(mutex_);
    return live_;
  }
  int64_t peak() const {
    std::lock_guard lock(mutex_);
    return peak_;
  }
  void reset_peak() {
    std::lock_guard lock(mutex_);
    peak_ = live_;
  }

 private:
  // Blocks can outlive the measurement (a tensor kept by the caller) and are freed here even after
  // the allocator is uninstalled, so the table is process-wide.
  static void release(void* data) {
    {
      std::lock_guard lock(mutex_);
      auto it = sizes_.find(data);
      if (it != sizes_.end()) {
        live_ -= static_cast<int64_t>(it->second);
        sizes_.erase(it);
      }
    }
    c10::free_cpu(data);
  }

  static inline std::mutex mutex_;
  static inline std::unordered_map<void*, size_t> sizes_;
  static inline int64_t live_ = 0, peak_ = 0;
};

// Installs the counting allocator for the scope. Not reentrant; measurements run one at a time.
class CpuAllocationCounter {
 public:
  CpuAllocationCounter() : previous_(c10::GetCPUAllocator()) {
    static CountingAllocator counting;
    counting_ = &counting;
    c10::SetCPUAllocator(counting_, kPriority);
    counting_->reset_peak();
    start_ = counting_->live();
  }
  ~CpuAllocationCounter() { c10::SetCPUAllocator(previous_, kPriority); }
  CpuAllocationCounter(const CpuAllocationCounter&) = delete;
  CpuAllocationCounter& operator=(const CpuAllocationCounter&) = delete;

  void reset_peak() { counting_->reset_peak(); }
  double peak_bytes() const { return static_cast<double>(counting_->peak() - start_); }

 private:
  static constexpr uint8_t kPriority = std::numeric_limits<uint8_t>::max();
  c10::Allocator* previous_;
  CountingAllocator* counting_ = nullptr;
  int64_t start_ = 0;
};

// Tensor memory a device handed out since the meter started: on the CPU through the counting
// allocator, on a GPU from the CUDA caching allocator's own statistics (bytes given to tensors,
// not what the cache reserved from the driver), which is what a trial there will need.
class AllocationCounter {
 public:
  explicit AllocationCounter(const torch::Device& device) : device_(device) {
    if (!device.is_cuda()) {
      cpu_.emplace();
      return;
    }
#if FERSWEEP_TORCH_CUDA
    start_ = gpu_allocated_bytes(false);
#else
    throw std::logic_error("memory of a CUDA device measured by a LibTorch without CUDA");
#endif
  }

  void reset_peak() {
    if (cpu_) return cpu_->reset_peak();
#if FERSWEEP_TORCH_CUDA
    c10::cuda::CUDACachingAllocator::resetPeakStats(device_.index());
#endif
  }
  double peak_bytes() const {
    if (cpu_) return cpu_->peak_bytes();
#if FERSWEEP_TORCH_CUDA
    return static_cast<double>(gpu_allocated_bytes(true) - start_);
#else
    return 0;
#endif
  }

 private:
#if FERSWEEP_TORCH_CUDA
  // The Stat and DeviceStats types have moved between namespaces across releases; index 0 of the
  // statistics arrays is StatType::AGGREGATE (every pool) in all of them.
  int64_t gpu_allocated_bytes(bool peak) const {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index());
    return peak ? stats.allocated_bytes[0].peak : stats.allocated_bytes[0].current;
  }
#endif
  torch::Device device_;
  std::optional<CpuAllocationCounter> cpu_;
  int64_t start_ = 0;
};

// Multiply-accumulates seen by the operator observer on this thread, and how many counted
// operators are open: one implemented with another (a linear layer as addmm, a convolution as a
// matrix product) must be counted once, at the outermost.
thread_local double t_multiply_accumulates = 0;
thread_local int t_open_counted = 0;

struct MacsPerOutput : at::ObserverContext {
  explicit MacsPerOutput(double m) : macs(m) {}
  double macs;
};

// What one output element costs in multiply-accumulates, read from the operator's inputs (the
// output's size is known only at the end); nullopt for operators that are not counted.
std::optional<double> macs_per_output(std::string_view name, c10::ArrayRef<const c10::IValue> in) {
  const auto tensor = [&](size_t i) -> const at::Tensor* {
    return i < in.size() && in[i].isTensor() ? &in[i].toTensor() : nullptr;
  };
  if (name == "aten::convolution" || name == "aten::linear") {
    // weight [out, in / groups, kh, kw] or [out, in]
    const at::Tensor* w = tensor(1);
    return w ? std::optional(static_cast<double>(w->numel() / w->size(0))) : std::optional(0.0);
  }
  if (name == "aten::addmm" || name == "aten::mm" || name == "aten::bmm" ||
      name == "aten::matmul") {
    const at::Tensor* a = tensor(name == "aten::addmm" ? 1 : 0);
    return a ? std::optional(static_cast<double>(a->size(-1))) : std::optional(0.0);
  }
  return std::nullopt;
}

std::unique_ptr<at::ObserverContext> on_operator_start(const at::RecordFunction& fn) {
  const std::optional<double> macs = macs_per_output(fn.name(), fn.inputs());
  if (!macs) return nullptr;
  const bool outermost = t_open_counted++ == 0;
  return std::make_unique<MacsPerOutput>(outermost ? *macs : 0.0);
}

void on_operator_end(const at::RecordFunction& fn, at::ObserverContext* context) {
  if (!context) return;
  --t_open_counted;
  const auto& outputs = fn.outputs();
  if (outputs.empty() || !outputs[0].isTensor()) return;
  t_multiply_accumulates += static_cast<MacsPerOutput*>(context)->macs *
                            static_cast<double>(outputs[0].toTensor().numel());
}

double flops_per_image(ClassifierImpl& model, const ModelOptions& o) {
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Tensor image = torch::zeros({1, o.in_channels, o.image_size, o.image_size});
  t_multiply_accumulates = 0;
  t_open_counted = 0;
  const auto handle =
      at::addThreadLocalCallback(at::RecordFunctionCallback(&on_operator_start, &on_operator_end)
                                     .needsInputs(true)
                                     .needsOutputs(true));
  model.forward(image);
  at::removeCallback(handle);
  return 2.0 * t_multiply_accumulates;
}

torch::Tensor training_loss(ClassifierImpl& model, const ModelOptions& o, int batch,
                            const torch::Device& device = torch::kCPU) {
  const torch::Tensor x =
      torch::randn({batch, o.in_channels, o.image_size, o.image_size}, torch::device(device));
  const torch::Tensor y =
      torch::randint(o.num_classes, {batch}, torch::dtype(torch::kLong).device(device));
  return torch::nn::functional::cross_entropy(model.forward(x), y);
}

}  // namespace

double ModelCost::training_bytes(int batch, int slots) const {
  return fixed_bytes + bytes_per_image * batch + 4.0 * static_cast<double>(parameters) * slots;
}

int ModelCost::largest_batch(double budget_bytes, int slots) const {
  const double room = budget_bytes - training_bytes(0, slots);
  if (room < bytes_per_image) return 0;
  return static_cast<int>(std::min(room / std::max(bytes_per_image, 1.0), 1e9));
}

ModelSize measure_size(const ModelOptions& o) {
  Classifier model = make_model(o);
  return {trainable_parameters(*model), flops_per_image(*model, o)};
}

double forward_flops(const ModelOptions& o) {
  return measure_size(o).forward_flops;
}

// cuDNN picks a convolution algorithm, and the workspace it takes, per input shape: with it on,
// the peaks at batch 2 and 4 made the modified VGG read as 143 MiB per image on an H200 (torch
// 2.11) instead of the 2.5 MiB it keeps. Workspace belongs to no image, so training memory is
// measured with cuDNN off; the kernels used instead keep the same tensors for backward.
class CudnnOffWhile {
 public:
  explicit CudnnOffWhile(bool on_gpu) : was_enabled_(at::globalContext().userEnabledCuDNN()) {
    if (on_gpu) at::globalContext().setUserEnabledCuDNN(false);
  }
  ~CudnnOffWhile() { at::globalContext().setUserEnabledCuDNN(was_enabled_); }
  CudnnOffWhile(const CudnnOffWhile&) = delete;
  CudnnOffWhile& operator=(const CudnnOffWhile&) = delete;

 private:
  bool was_enabled_;
};

ModelCost measure_cost(const ModelOptions& o, const torch::Device& device) {
  ModelCost cost;
  const CudnnOffWhile cudnn_off(device.is_cuda());
  AllocationCounter counter(device);  // before the weights exist: they are part of the cost
  Classifier model = make_model(o);
  cost.parameters = trainable_parameters(*model);
  cost.buffers = buffer_elements(*model);
  cost.forward_flops = flops_per_image(*model, o);
  model->to(device);
  use_channels_last(*model);  // measured in the layout the worker trains in

  // Two sizes so that what scales with the batch separates from what does not. Batch 2 is the
  // smallest that batch-norm accepts everywhere; the warm-up allocates the gradients first.
  model->train();
  constexpr int kSmall = 2, kLarge = 4;
  training_loss(*model, o, kSmall, device).backward();
  double peak[2];
  for (int i = 0; i < 2; ++i) {
    counter.reset_peak();
    training_loss(*model, o, i == 0 ? kSmall : kLarge, device).backward();
    peak[i] = counter.peak_bytes();
  }
  cost.bytes_per_image = std::max(0.0, (peak[1] - peak[0]) / (kLarge - kSmall));
  cost.fixed_bytes = std::max(0.0, peak[0] - kSmall * cost.bytes_per_image);
  return cost;
}

StepMeasurement measure_training_step(const ModelOptions& o, int batch, int repeats,
                                      const std::string& trace_path) {
  using Clock = std::chrono::steady_clock;
  StepMeasurement m;
  m.batch = batch;
  AllocationCounter counter(torch::kCPU);
  Classifier model = make_model(o);
  use_channels_last(*model);
  model->train();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-4));
  // The scopes name the step's phases in a trace; without a profiler they cost nothing.
  const auto step = [&] {
    torch::Tensor loss;
    {
      RECORD_USER_SCOPE("step::zero_grad");
      optimizer.zero_grad();
    }
    {
      RECORD_USER_SCOPE("step::forward");
      loss = training_loss(*model, o, batch);
    }
    {
      RECORD_USER_SCOPE("step::backward");
      loss.backward();
    }
    RECORD_USER_SCOPE("step::optimizer");
    optimizer.step();
  };
  std::vector<double> seconds;
  for (int i = 0; i <= std::max(1, repeats); ++i) {
    const auto start = Clock::now();
    step();
    if (i > 0) seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  m.seconds = seconds[seconds.size() / 2];
  m.peak_bytes = counter.peak_bytes();
  if (!trace_path.empty()) {
    torch::autograd::profiler::RecordProfile profile(trace_path);
    for (int i = 0; i < std::max(1, repeats); ++i) step();
  }
  return m;
}

std::vector<double> measure_inference_ms(const ModelOptions& o, const std::vector<int>& batches,
                                         int repeats, const torch::Device& device) {
  using Clock = std::chrono::steady_clock;
  Classifier model = make_model(o);
  model->to(device);
  use_channels_last(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<double> medians;
  for (const int batch : batches) {
    const torch::Tensor images =
        torch::randn({batch, o.in_channels, o.image_size, o.image_size}, torch::device(device));
    std::vector<double> ms;
    for (int i = 0; i <= std::max(1, repeats); ++i) {
      const auto start = Clock::now();
      // Reading a value back waits for a GPU to finish the pass.
      model->forward(images).sum().item<float>();
      if (i > 0)
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    medians.push_back(ms[ms.size() / 2]);
  }
  return medians;
}

int optimizer_slots(Optimizer optimizer, double momentum) {
  switch (optimizer) {
    case Optimizer::kAdam:
    case Optimizer::kAdamW:
      return 2;
    case Optimizer::kSgd:
      return momentum > 0 ? 1 : 0;
  }
  return 0;
}

}  // namespace fersweep::models
