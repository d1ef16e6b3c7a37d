// The spiral demo's model (torchdiffeq's ode_demo) as a models::Model: a field f_theta(y) solved
// from a batch of window starts over the window's times, through a gradient method, with the mean
// absolute error against the observed windows as its loss.
#pragma once

#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/models/model.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::apps {

// batch_size windows of batch_time consecutive points of a 2-dimensional trajectory.
template <class Scalar>
struct SpiralBatch {
  Matrix<Scalar> y0;      // batch_size x 2: each window's first point
  Matrix<Scalar> target;  // batch_time x (2 batch_size): row i = every window's point i
};

template <class Scalar>
class SpiralModel final : public models::Model<Scalar, SpiralBatch<Scalar>> {
 public:
  // times: the window's batch_time offsets from its start (the solve's output times).
  SpiralModel(nn::LayerField<Scalar>& field, const ode::SolveOptions& solve,
              const grad::GradOptions& grad, std::vector<Scalar> times)
      : field_(field),
        solve_(solve),
        method_(grad::make_gradient_method<Scalar>(grad)),
        times_(std::move(times)),
        views_(field.param_views()) {}

  std::span<Scalar> params() override { return field_.params(); }
  const std::vector<nn::ParamView>& param_views() const override { return views_; }

  // Mean absolute error over every point of every window, and its derivative
  // sign(pred - true) / count, backpropagated through the solve.
  models::BatchLoss loss_and_gradient(const SpiralBatch<Scalar>& batch,
                                      std::span<Scalar> grad) override {
    const Index B = batch.y0.rows(), T = static_cast<Index>(times_.size()), n = 2 * B;
    dl_.resize(T, n);
    const ode::Solution<Scalar>* sol = nullptr;
    try {
      sol =
          &method_->forward(field_, ConstMatrixView<Scalar>(batch.y0.data(), B, 2), times_, solve_);
    } catch (const SolveError& e) {
      throw SolveError(neuralode::detail::cat("forward solve: ", e.what()));
    }
    const Scalar inv = Scalar(1) / static_cast<Scalar>(T * n);
    double loss = 0;
    for (Index k = 0; k < dl_.size(); ++k) {
      const Scalar diff = sol->ys.data()[k] - batch.target.data()[k];
      loss += std::abs(static_cast<double>(diff));
      dl_.data()[k] = diff > 0 ? inv : (diff < 0 ? -inv : Scalar(0));
    }
    loss /= static_cast<double>(dl_.size());
    const models::BatchLoss result{.loss = loss, .samples = B};
    nfe_ = {.forward = method_->stats().forward.nfe, .backward = 0};
    if (!std::isfinite(loss)) return result;
    try {
      method_->backward(ConstMatrixView<Scalar>(dl_.data(), T, n), g_);
    } catch (const SolveError& e) {
      throw SolveError(neuralode::detail::cat("backward pass: ", e.what()));
    }
    std::copy(g_.params.data(), g_.params.data() + g_.params.size(), grad.begin());
    nfe_ = {.forward = method_->stats().forward.nfe, .backward = method_->stats().nfe_backward};
    return result;
  }

  models::NfeReport last_nfe() const override { return nfe_; }

 private:
  nn::LayerField<Scalar>& field_;
  ode::SolveOptions solve_;
  std::unique_ptr<grad::GradientMethod<Scalar>> method_;
  std::vector<Scalar> times_;
  std::vector<nn::ParamView> views_;
  Matrix<Scalar> dl_;
  grad::Gradients<Scalar> g_;
  models::NfeReport nfe_;
};

}  // namespace neuralode::apps
