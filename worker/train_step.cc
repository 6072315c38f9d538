#include "worker/train_step.h"

#include <cstdint>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "parallel/shard.h"

namespace fersweep::worker {

namespace {

// PyTorch 2.4 replaced the per-backend autocast switches (set_enabled, set_cpu_enabled, ...) by
// ones that take the device type; the old ones remain but warn on every call.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) {
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
}
void set_autocast(bool cuda, bool enabled) {
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
}
void autocast_to_bf16(bool cuda) {
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, at::kBFloat16);
}
#else
bool autocast_enabled(bool cuda) {
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast(bool cuda, bool enabled) {
  cuda ? at::autocast::set_enabled(enabled) : at::autocast::set_cpu_enabled(enabled);
}
void autocast_to_bf16(bool cuda) {
  cuda ? at::autocast::set_autocast_gpu_dtype(at::kBFloat16)
       : at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
}
#endif

}  // namespace

Autocast::Autocast(const torch::Device& device, bool enabled)
    : cuda_(device.is_cuda()), enabled_(enabled) {
  if (!enabled_) return;
  was_enabled_ = autocast_enabled(cuda_);
  autocast_to_bf16(cuda_);
  set_autocast(cuda_, true);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, was_enabled_);
}

namespace {

// The loss a rank back-propagates: the batch's mean alone; in a gang, its slice's sum over the
// whole batch's denominator (the summed class weights under weighted_loss).
torch::Tensor rank_loss(const TrainingSetup& setup, const torch::Tensor& logits,
                        const torch::Tensor& labels, const Batch& batch, bool alone) {
  namespace F = torch::nn::functional;
  if (alone) return F::cross_entropy(logits, labels, setup.loss_options);
  const double denominator =
      setup.class_weights.defined()
          ? setup.class_weights.index_select(0, batch.labels).sum().item<double>()
          : static_cast<double>(batch.labels.size(0));
  auto summed = setup.loss_options;
  summed.reduction(torch::kSum);
  return F::cross_entropy(logits, labels, summed) / denominator;
}

}  // namespace

StepResult train_step(TrainingSetup& setup, const Batch& batch, parallel::Communicator& gang,
                      parallel::GradientSync* sync, std::optional<std::string> failure) {
  const bool alone = sync == nullptr;
  if (alone && failure) throw std::runtime_error(*failure);
  const parallel::Shard shard =
      alone ? parallel::Shard{0, batch.labels.size(0)}
            : parallel::shard_of(batch.labels.size(0), gang.rank(), gang.size());
  setup.optimizer->zero_grad();
  if (sync) sync->begin_step();
  std::vector<double> totals{0.0, 0.0};  // this rank's loss share and correct predictions
  try {
    if (shard.count > 0 && !failure) {
      const torch::Tensor x =
          alone ? batch.images : batch.images.narrow(0, shard.begin, shard.count);
      const torch::Tensor y =
          alone ? batch.labels : batch.labels.narrow(0, shard.begin, shard.count);
      torch::Tensor logits, loss;
      {
        const Autocast autocast(setup.device, setup.bf16);
        logits = setup.model->forward(x);
        loss = rank_loss(setup, logits, y, batch, alone);
      }
      loss.backward();
      totals = {loss.item<double>(), logits.argmax(1).eq(y).sum().item<double>()};
    }
  } catch (const std::exception& e) {
    if (alone) throw;
    failure = e.what();
  }
  if (sync) {
    sync->finish_step();  // also after a failure: the other ranks wait for this rank's buckets
    parallel::agree(gang, failure);
    gang.sum(totals);
  }
  if (setup.config.grad_clip > 0)
    torch::nn::utils::clip_grad_norm_(setup.model->parameters(), setup.config.grad_clip);
  setup.optimizer->step();
  return {totals[0], static_cast<int64_t>(totals[1])};
}

}  // namespace fersweep::worker
