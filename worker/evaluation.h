#pragma once
// Validation and test passes: loss and confusion matrix of a model over an image set. In a gang
// every rank scores its own slice (parallel/shard.h) and the sums are combined, so the matrix
// covers the set exactly once.
#include "common/metrics.h"
#include "models/model.h"
#include "parallel/communicator.h"
#include "worker/batches.h"

namespace fersweep::worker {

struct Evaluation {
  double loss = 0;  // mean cross-entropy over the whole set
  ConfusionMatrix confusion;
};

Evaluation evaluate(models::ClassifierImpl& model, const TensorDataset& data, int num_classes,
                    parallel::Communicator& gang);

}  // namespace fersweep::worker
