#include "worker/evaluation.h"

#include <cstdint>

#include "parallel/shard.h"

namespace fersweep::worker {

Evaluation evaluate(models::ClassifierImpl& model, const TensorDataset& data, int num_classes,
                    parallel::Communicator& gang) {
  torch::NoGradGuard no_grad;
  model.eval();
  const parallel::Shard shard = parallel::shard_of(data.size(), gang.rank(), gang.size());
  constexpr int64_t kBatch = 256;
  // [loss sum, confusion cells...]: one vector, so a gang combines them in one collective.
  std::vector<double> sums(1 + static_cast<size_t>(num_classes * num_classes), 0.0);
  for (int64_t start = shard.begin; start < shard.begin + shard.count; start += kBatch) {
    const int64_t count = std::min(kBatch, shard.begin + shard.count - start);
    const torch::Tensor x = normalise(data.images.narrow(0, start, count));
    const torch::Tensor y = data.labels.narrow(0, start, count);
    const torch::Tensor logits = model.forward(x);
    sums[0] +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    const torch::Tensor cells =
        torch::bincount(y * num_classes + logits.argmax(1), {}, num_classes * num_classes)
            .to(torch::kCPU);
    const auto* counts = cells.data_ptr<int64_t>();
    for (int cell = 0; cell < num_classes * num_classes; ++cell) {
      sums[1 + static_cast<size_t>(cell)] += static_cast<double>(counts[cell]);
    }
  }
  gang.sum(sums);
  Evaluation result{sums[0] / static_cast<double>(data.size()), ConfusionMatrix(num_classes)};
  for (int a = 0; a < num_classes; ++a) {
    for (int p = 0; p < num_classes; ++p) {
      result.confusion.add(
          a, p, static_cast<int64_t>(sums[1 + static_cast<size_t>(a * num_classes + p)]));
    }
  }
  return result;
}

}  // namespace fersweep::worker
