// OdeBlock: forward is one solve over [t0, t1]; backward hands the gradient method the cotangent
// of the last output only (the first output, the block's input, is not used by the loss).
#include "neuralode/models/ode_block.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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
const ode::Solution<Scalar>& OdeBlock<Scalar>::solve_for_training(ConstMatrixView<Scalar> x) {
  const std::span<const Scalar> times(times_, 2);
  const auto& sol = method_->forward(field_, x, times, options_.solve);
  nfe_forward_ = method_->stats().forward.nfe;
  return sol;
}

template <class Scalar>
void OdeBlock<Scalar>::forward(nn::Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                               Scalar* ctx) {
  if (y.rows() != x.rows() || y.cols() != x.cols())
    throw InvalidArgument("OdeBlock::forward: y must have x's shape");
  std::uint64_t tag = 0;
  if (training_ && ctx) {
    y = solve_for_training(x).state(1);
    tag = tape_tag_ = ++calls_;
  } else {
    const std::span<const Scalar> times(times_, 2);
    ode::odeint<Scalar>(field_, x, times, options_.solve, ws_, eval_solution_);
    nfe_forward_ = eval_solution_.stats.nfe;
    y = eval_solution_.state(1);
  }
  if (ctx) std::memcpy(ctx, &tag, sizeof(tag));
}

template <class Scalar>
void OdeBlock<Scalar>::backward(nn::Time<Scalar>, ConstMatrixView<Scalar> x, const Scalar* ctx,
                                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                Scalar* theta_bar, Scalar*) {
  std::uint64_t tag = 0;
  if (ctx) std::memcpy(&tag, ctx, sizeof(tag));
  if (tag == 0)
    throw InvalidArgument(
        "OdeBlock::backward: the matching forward ran in evaluation mode (set_training(false)) "
        "or without a context, which keeps nothing to differentiate; call set_training(true) "
        "and pass a context to forward");
  // The method's tape is of another call's solve: re-run this call's (same x, same parameters,
  // so the same steps and the same tape).
  if (tag != tape_tag_) {
    solve_for_training(x);
    tape_tag_ = tag;
  }
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

template class OdeBlock<float>;
template class OdeBlock<double>;

}  // namespace neuralode::models
