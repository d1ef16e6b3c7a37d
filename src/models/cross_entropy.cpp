// Softmax cross-entropy; see cross_entropy.hpp. Accumulates in double: a batch-mean of 128 float
// terms loses nothing worth keeping, but the loss is logged and compared across runs.
#include "neuralode/models/cross_entropy.hpp"

#include <cmath>
#include <string>

#include "neuralode/error.hpp"

namespace neuralode::models {

template <class Scalar>
ClassificationResult softmax_cross_entropy(ConstMatrixView<Scalar> logits,
                                           std::span<const int> labels,
                                           MatrixView<Scalar>* dlogits) {
  const Index B = logits.rows(), C = logits.cols();
  if (B < 1 || C < 1)
    throw InvalidArgument("softmax_cross_entropy: logits are " + std::to_string(B) + " x " +
                          std::to_string(C) + "; need at least one row and one class");
  if (static_cast<Index>(labels.size()) != B)
    throw InvalidArgument("softmax_cross_entropy: " + std::to_string(labels.size()) +
                          " labels for " + std::to_string(B) + " rows of logits");
  if (dlogits && (dlogits->rows() != B || dlogits->cols() != C))
    throw InvalidArgument("softmax_cross_entropy: dlogits must be batch x classes like logits");
  ClassificationResult r;
  for (Index n = 0; n < B; ++n) {
    const int label = labels[static_cast<std::size_t>(n)];
    if (label < 0 || label >= C)
      throw InvalidArgument("softmax_cross_entropy: label " + std::to_string(label) + " of row " +
                            std::to_string(n) + " is outside [0, " + std::to_string(C) + ")");
    Index arg = 0;
    for (Index c = 1; c < C; ++c)
      if (logits(n, c) > logits(n, arg)) arg = c;
    const double m = static_cast<double>(logits(n, arg));
    double sum = 0;
    for (Index c = 0; c < C; ++c) sum += std::exp(static_cast<double>(logits(n, c)) - m);
    const double log_z = m + std::log(sum);
    r.loss += log_z - static_cast<double>(logits(n, label));
    r.correct += arg == label ? 1 : 0;
    if (dlogits) {
      for (Index c = 0; c < C; ++c) {
        const double p = std::exp(static_cast<double>(logits(n, c)) - log_z);
        (*dlogits)(n, c) = static_cast<Scalar>((p - (c == label ? 1.0 : 0.0)) / B);
      }
    }
  }
  r.loss /= static_cast<double>(B);
  return r;
}

template ClassificationResult softmax_cross_entropy<float>(ConstMatrixView<float>,
                                                           std::span<const int>,
                                                           MatrixView<float>*);
template ClassificationResult softmax_cross_entropy<double>(ConstMatrixView<double>,
                                                            std::span<const int>,
                                                            MatrixView<double>*);

}  // namespace neuralode::models
