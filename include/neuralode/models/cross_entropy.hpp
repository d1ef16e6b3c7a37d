// Softmax cross-entropy for classifiers: PyTorch's nn.CrossEntropyLoss (mean over the batch) on
// raw logits, with its gradient and the number of correct arg-max predictions.
#pragma once

#include <span>

#include "neuralode/types.hpp"

namespace neuralode::models {

struct ClassificationResult {
  double loss = 0;    // mean over the batch of -log softmax(logits)[label]
  Index correct = 0;  // rows whose largest logit is at the label (first maximum on ties)
};

// logits: batch x classes; labels: batch entries in [0, classes) (InvalidArgument naming the row
// otherwise). When dlogits is non-null (batch x classes) it receives d loss / d logits =
// (softmax - onehot) / batch. Computed with the log-sum-exp shift, so large logits do not overflow.
template <class Scalar>
ClassificationResult softmax_cross_entropy(ConstMatrixView<Scalar> logits,
                                           std::span<const int> labels,
                                           MatrixView<Scalar>* dlogits = nullptr);

}  // namespace neuralode::models
