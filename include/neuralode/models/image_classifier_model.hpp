// An ImageClassifier (ODE-Net, RK-Net, ResNet) as a models::Model: the loss of a batch of images
// is the softmax cross-entropy of its logits, the gradient goes back through the network (the ODE
// block by its gradient method), and the NFE are the block's. This is what train::Trainer runs for
// `neuralode train odenet`, and what `bench odenet` times.
#pragma once

#include <span>
#include <vector>

#include "neuralode/models/image_classifier.hpp"
#include "neuralode/models/model.hpp"

namespace neuralode::models {

// A batch of images and their labels, as train::ImageBatcher fills it.
struct ImageBatch {
  Matrix<float> x;          // batch x (height * width) pixels in [0, 1], row-major
  std::vector<int> labels;  // batch entries in [0, num_classes)
};

template <class Scalar>
class ImageClassifierModel final : public Model<Scalar, ImageBatch> {
 public:
  // The classifier must outlive the model; its parameters are the model's.
  explicit ImageClassifierModel(ImageClassifier<Scalar>& net) : net_(net) {}

  std::span<Scalar> params() override { return net_.params(); }
  const std::vector<nn::ParamView>& param_views() const override { return net_.param_views(); }

  // Mean cross-entropy over the batch (samples = rows, correct = rows whose largest logit is at
  // the label); no backward pass when it is not finite. Buffers are kept between calls: after the
  // first batch of a size nothing is allocated here.
  BatchLoss loss_and_gradient(const ImageBatch& batch, std::span<Scalar> grad) override;
  NfeReport last_nfe() const override;

  ImageClassifier<Scalar>& net() { return net_; }

 private:
  ImageClassifier<Scalar>& net_;
  Matrix<Scalar> x_, logits_, dlogits_;  // x_: the pixels in Scalar when it is not float
};

extern template class ImageClassifierModel<float>;
extern template class ImageClassifierModel<double>;

}  // namespace neuralode::models
