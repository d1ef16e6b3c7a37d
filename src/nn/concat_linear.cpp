// ConcatLinear: y = [t, x] W^T + b = x W_x^T + (b + t w_t), W_x the columns 1..in of W (a strided
// block, passed to the products with row stride in + 1; the concatenation is never formed).
#include "neuralode/nn/concat_linear.hpp"

#include <cassert>

#include "nn/backend/matmul.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
ConcatLinear<Scalar>::ConcatLinear(Index in, Index out)
    : in_(in), out_(out), b_eff_(out), colsum_(out), mm_(detail::make_matmul<Scalar>()) {
  detail::require_positive("ConcatLinear", "in", in);
  detail::require_positive("ConcatLinear", "out", out);
}

template <class Scalar>
ConcatLinear<Scalar>::~ConcatLinear() = default;

template <class Scalar>
std::vector<ParamView> ConcatLinear<Scalar>::param_specs() const {
  return {{"weight", {out_, in_ + 1}, 0}, {"bias", {out_}, out_ * (in_ + 1)}};
}

template <class Scalar>
void ConcatLinear<Scalar>::bind(Scalar* params) {
  w_ = params;
  b_ = params ? params + out_ * (in_ + 1) : nullptr;
}

template <class Scalar>
void ConcatLinear<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  assert(w_ && x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  const Index ld = in_ + 1;
  for (Index i = 0; i < out_; ++i) b_eff_[i] = b_[i] + t * w_[i * ld];
  mm_->forward(x, w_ + 1, ld, b_eff_.data(), y);
  x_ = x.data();
  rows_ = x.rows();
  t_ = t;
}

template <class Scalar>
void ConcatLinear<Scalar>::affine_backward(Scalar t, ConstMatrixView<Scalar> x,
                                           ConstMatrixView<Scalar> y_bar, Scalar* theta_bar,
                                           Scalar* t_bar) {
  const Index ld = in_ + 1;
  if (!theta_bar && !t_bar) return;
  // s = colsum(y_bar): the derivative of <y_bar, y> w.r.t. the broadcast term b + t w_t.
  colsum_.setZero();
  detail::add_colsum(y_bar, colsum_.data());
  Scalar t_acc = 0;
  for (Index i = 0; i < out_; ++i) {
    const Scalar s = colsum_[i];
    t_acc += s * w_[i * ld];
    if (theta_bar) {
      theta_bar[i * ld] += t * s;
      theta_bar[out_ * ld + i] += s;
    }
  }
  if (t_bar) *t_bar += t_acc;
  if (theta_bar) mm_->backward_weight(y_bar, x, theta_bar + 1, ld);
}

template <class Scalar>
void ConcatLinear<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                    Scalar* theta_bar, Scalar* t_bar) {
  assert(x_ && y_bar.rows() == rows_ && x_bar.rows() == rows_);
  mm_->backward_input(y_bar, w_ + 1, in_ + 1, x_bar);
  affine_backward(t_, ConstMatrixView<Scalar>(x_, rows_, in_), y_bar, theta_bar, t_bar);
}

template <class Scalar>
void ConcatLinear<Scalar>::forward_tangent(Scalar t, ConstMatrixView<Scalar> x,
                                           ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                           MatrixView<Scalar> y_dot) {
  assert(w_ && x.cols() == in_ && x_dot.rows() == x.rows());
  const Index ld = in_ + 1;
  for (Index i = 0; i < out_; ++i) b_eff_[i] = b_[i] + t * w_[i * ld];
  mm_->forward(x, w_ + 1, ld, b_eff_.data(), y);
  mm_->forward(x_dot, w_ + 1, ld, nullptr, y_dot);  // t is not perturbed by x_dot
  tx_ = x.data();
  tx_dot_ = x_dot.data();
  trows_ = x.rows();
  tt_ = t;
}

template <class Scalar>
void ConcatLinear<Scalar>::backward_tangent(ConstMatrixView<Scalar> y_bar,
                                            ConstMatrixView<Scalar> y_dot_bar,
                                            MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                            Scalar* theta_bar, Scalar* t_bar) {
  assert(tx_ && y_bar.rows() == trows_);
  const Index ld = in_ + 1;
  mm_->backward_input(y_bar, w_ + 1, ld, x_bar);
  mm_->backward_input(y_dot_bar, w_ + 1, ld, x_dot_bar);
  affine_backward(tt_, ConstMatrixView<Scalar>(tx_, trows_, in_), y_bar, theta_bar, t_bar);
  if (theta_bar) {
    mm_->backward_weight(y_dot_bar, ConstMatrixView<Scalar>(tx_dot_, trows_, in_), theta_bar + 1,
                         ld);
  }
}

template class ConcatLinear<float>;
template class ConcatLinear<double>;

}  // namespace neuralode::nn
