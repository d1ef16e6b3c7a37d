// OdeBlock: forward is one solve over [t0, t1]; backward hands the gradient method the cotangent
// of the last output only (the first output, the block's input, is not used by the loss).
#include "neuralode/models/ode_block.hpp"

#include <algorithm>
#include <cmath>

#include "neuralode/error.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::models {

void OdeBlockOptions::validate() const {
  if (!std::isfinite(t0) || !std::isfinite(t1) || t0 == t1)
    throw InvalidArgument("OdeBlock: the interval [t0, t1] = [" + std::to_string(t0) + ", " +
                          std::to_string(t1) + "] must be finite with t1 != t0");
  solve.validate();
  grad.validate();
}

template <class Scalar>
OdeBlock<Scalar>::OdeBlock(std::unique_ptr<nn::Layer<Scalar>> field_root, OdeBlockOptions options)
    : options_(std::move(options)), field_(std::move(field_root)) {
  options_.validate();
  method_ = grad::make_gradient_method<Scalar>(options_.grad);
  times_[0] = static_cast<Scalar>(options_.t0);
  times_[1] = static_cast<Scalar>(options_.t1);
}

template <class Scalar>
void OdeBlock<Scalar>::forward(Scalar, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  if (y.rows() != x.rows() || y.cols() != x.cols())
    throw InvalidArgument("OdeBlock::forward: y must have x's shape");
  const std::span<const Scalar> times(times_, 2);
  const ode::Solution<Scalar>* sol = nullptr;
  if (training_) {
    sol = &method_->forward(field_, x, times, options_.solve);
    nfe_forward_ = method_->stats().forward.nfe;
    have_training_forward_ = true;
  } else {
    ode::odeint<Scalar>(field_, x, times, options_.solve, ws_, eval_solution_);
    sol = &eval_solution_;
    nfe_forward_ = eval_solution_.stats.nfe;
    have_training_forward_ = false;
  }
  y = sol->state(1);
}

template <class Scalar>
void OdeBlock<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                Scalar* theta_bar, Scalar*) {
  if (!have_training_forward_)
    throw InvalidArgument(
        "OdeBlock::backward: the last forward ran in evaluation mode (set_training(false)), "
        "which keeps nothing to differentiate; call set_training(true) before forward");
  const Index n = y_bar.size();
  dl_dys_.resize(2, n);
  dl_dys_.row(0).setZero();
  std::copy(y_bar.data(), y_bar.data() + n, dl_dys_.data() + n);
  method_->backward(ConstMatrixView<Scalar>(dl_dys_.data(), 2, n), grads_);
  nfe_backward_ = method_->stats().nfe_backward;
  x_bar = grads_.y0;
  if (theta_bar) {
    const Scalar* g = grads_.params.data();
    for (Index i = 0; i < grads_.params.size(); ++i) theta_bar[i] += g[i];
  }
}

template <class Scalar>
void OdeBlock<Scalar>::forward_tangent(Scalar, ConstMatrixView<Scalar>, ConstMatrixView<Scalar>,
                                       MatrixView<Scalar>, MatrixView<Scalar>) {
  throw InvalidArgument(
      "OdeBlock: tangent passes (forward_tangent) are not supported; an ODE block is used with "
      "forward and backward only");
}

template <class Scalar>
void OdeBlock<Scalar>::backward_tangent(ConstMatrixView<Scalar>, ConstMatrixView<Scalar>,
                                        MatrixView<Scalar>, MatrixView<Scalar>, Scalar*, Scalar*) {
  throw InvalidArgument(
      "OdeBlock: tangent passes (backward_tangent) are not supported; an ODE block is used "
      "with forward and backward only");
}

template class OdeBlock<float>;
template class OdeBlock<double>;

}  // namespace neuralode::models
