// Linear: y = x W^T + b; reverse pass x_bar = y_bar W, W_bar += y_bar^T x, b_bar += colsum(y_bar).
#include "neuralode/nn/linear.hpp"

#include <cassert>

#include "nn/backend/matmul.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
Linear<Scalar>::Linear(Index in, Index out, bool bias)
    : in_(in), out_(out), bias_(bias), mm_(detail::make_matmul<Scalar>()) {
  detail::require_positive("Linear", "in", in);
  detail::require_positive("Linear", "out", out);
}

template <class Scalar>
Linear<Scalar>::~Linear() = default;

template <class Scalar>
std::vector<ParamView> Linear<Scalar>::param_specs() const {
  std::vector<ParamView> v{{"weight", {out_, in_}, 0}};
  if (bias_) v.push_back({"bias", {out_}, out_ * in_});
  return v;
}

template <class Scalar>
void Linear<Scalar>::bind(Scalar* params) {
  w_ = params;
  b_ = (bias_ && params) ? params + out_ * in_ : nullptr;
}

template <class Scalar>
void Linear<Scalar>::forward(Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                             Scalar*) {
  assert(w_ && x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  mm_->forward(x, w_, in_, b_, y);
}

template <class Scalar>
void Linear<Scalar>::backward(Time<Scalar>, ConstMatrixView<Scalar> x, const Scalar*,
                              ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                              Scalar* theta_bar, Scalar*) {
  assert(x.cols() == in_ && y_bar.rows() == x.rows() && x_bar.rows() == x.rows());
  mm_->backward_input(y_bar, w_, in_, x_bar);
  if (theta_bar) {
    mm_->backward_weight(y_bar, x, theta_bar, in_);
    if (bias_) detail::add_colsum(y_bar, theta_bar + out_ * in_);
  }
}

template <class Scalar>
void Linear<Scalar>::forward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                     ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                     MatrixView<Scalar> y_dot, Scalar*) {
  assert(w_ && x.cols() == in_ && x_dot.rows() == x.rows());
  mm_->forward(x, w_, in_, b_, y);
  mm_->forward(x_dot, w_, in_, nullptr, y_dot);
}

template <class Scalar>
void Linear<Scalar>::backward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                      ConstMatrixView<Scalar> x_dot, const Scalar*,
                                      ConstMatrixView<Scalar> y_bar,
                                      ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                                      MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar*) {
  assert(y_bar.rows() == x.rows() && x_dot.rows() == x.rows());
  // y depends on x, y_dot = x_dot W^T on x_dot: the two reverse passes are independent.
  mm_->backward_input(y_bar, w_, in_, x_bar);
  mm_->backward_input(y_dot_bar, w_, in_, x_dot_bar);
  if (theta_bar) {
    mm_->backward_weight(y_bar, x, theta_bar, in_);
    mm_->backward_weight(y_dot_bar, x_dot, theta_bar, in_);
    if (bias_) detail::add_colsum(y_bar, theta_bar + out_ * in_);
  }
}

template class Linear<float>;
template class Linear<double>;

}  // namespace neuralode::nn
