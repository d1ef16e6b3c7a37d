// ImageClassifierModel; see image_classifier_model.hpp.
#include "neuralode/models/image_classifier_model.hpp"

#include <cmath>
#include <type_traits>

#include "neuralode/models/cross_entropy.hpp"

namespace neuralode::models {

template <class Scalar>
BatchLoss ImageClassifierModel<Scalar>::loss_and_gradient(const ImageBatch& batch,
                                                          std::span<Scalar> grad) {
  const Index rows = batch.x.rows(), classes = net_.num_classes();
  const Scalar* pixels = nullptr;
  if constexpr (std::is_same_v<Scalar, float>) {
    pixels = batch.x.data();
  } else {
    x_ = batch.x.template cast<Scalar>();
    pixels = x_.data();
  }
  const ConstMatrixView<Scalar> x(pixels, rows, batch.x.cols());
  logits_.resize(rows, classes);
  dlogits_.resize(rows, classes);
  net_.forward(x, MatrixView<Scalar>(logits_.data(), rows, classes));
  MatrixView<Scalar> dv(dlogits_.data(), rows, classes);
  const ClassificationResult r = softmax_cross_entropy<Scalar>(
      ConstMatrixView<Scalar>(logits_.data(), rows, classes), batch.labels, &dv);
  const BatchLoss result{.loss = r.loss, .samples = rows, .correct = r.correct};
  if (!std::isfinite(r.loss)) return result;
  net_.backward(ConstMatrixView<Scalar>(dlogits_.data(), rows, classes), grad);
  return result;
}

template <class Scalar>
NfeReport ImageClassifierModel<Scalar>::last_nfe() const {
  return {.forward = net_.last_nfe_forward(), .backward = net_.last_nfe_backward()};
}

template class ImageClassifierModel<float>;
template class ImageClassifierModel<double>;

}  // namespace neuralode::models
