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
void ConcatLinear<Scalar>::affine_forward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                          MatrixView<Scalar> y) {
  assert(w_ && x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  t = collapsed(t, x.rows());
  const Index ld = in_ + 1;
  if (!t.per_row()) {
    const Scalar tv = t.value();
    for (Index i = 0; i < out_; ++i) b_eff_[i] = b_[i] + tv * w_[i * ld];
    mm_->forward(x, w_ + 1, ld, b_eff_.data(), y);
    return;
  }
  mm_->forward(x, w_ + 1, ld, b_, y);
  for (Index r = 0; r < x.rows(); ++r) {
    const Scalar tr = t.at(r);
    Scalar* yr = y.data() + r * out_;
    for (Index i = 0; i < out_; ++i) yr[i] += tr * w_[i * ld];
  }
}

template <class Scalar>
void ConcatLinear<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                   Scalar*) {
  affine_forward(t, x, y);
}

template <class Scalar>
void ConcatLinear<Scalar>::affine_backward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                           ConstMatrixView<Scalar> y_bar, Scalar* theta_bar,
                                           Scalar* t_bar) {
  const Index ld = in_ + 1;
  if (!theta_bar && !t_bar) return;
  if (!t_bar) t = collapsed(t, x.rows());
  // s = colsum(y_bar): the derivative of <y_bar, y> w.r.t. the broadcast term b + t w_t.
  colsum_.setZero();
  detail::add_colsum(y_bar, colsum_.data());
  if (!t.per_row()) {
    const Scalar tv = t.value();
    Scalar t_acc = 0;
    for (Index i = 0; i < out_; ++i) {
      const Scalar s = colsum_[i];
      t_acc += s * w_[i * ld];
      if (theta_bar) {
        theta_bar[i * ld] += tv * s;
        theta_bar[out_ * ld + i] += s;
      }
    }
    if (t_bar) *t_bar += t_acc;
  } else {
    // Row r's broadcast term is b + t_r w_t: the bias still sees colsum(y_bar), w_t sees
    // sum_r t_r y_bar_r, and t_r sees y_bar_r . w_t.
    for (Index r = 0; r < y_bar.rows(); ++r) {
      const Scalar tr = t.at(r);
      const Scalar* yb = y_bar.data() + r * out_;
      Scalar t_acc = 0;
      for (Index i = 0; i < out_; ++i) {
        t_acc += yb[i] * w_[i * ld];
        if (theta_bar) theta_bar[i * ld] += tr * yb[i];
      }
      if (t_bar) t_bar[r] += t_acc;
    }
    if (theta_bar) {
      for (Index i = 0; i < out_; ++i) theta_bar[out_ * ld + i] += colsum_[i];
    }
  }
  if (theta_bar) mm_->backward_weight(y_bar, x, theta_bar + 1, ld);
}

template <class Scalar>
void ConcatLinear<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar*,
                                    ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                    Scalar* theta_bar, Scalar* t_bar) {
  assert(y_bar.rows() == x.rows() && x_bar.rows() == x.rows());
  mm_->backward_input(y_bar, w_ + 1, in_ + 1, x_bar);
  affine_backward(t, x, y_bar, theta_bar, t_bar);
}

template <class Scalar>
void ConcatLinear<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                           ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                           MatrixView<Scalar> y_dot, Scalar*) {
  assert(x_dot.rows() == x.rows());
  affine_forward(t, x, y);
  mm_->forward(x_dot, w_ + 1, in_ + 1, nullptr, y_dot);  // t is not perturbed by x_dot
}

template <class Scalar>
void ConcatLinear<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                            ConstMatrixView<Scalar> x_dot, const Scalar*,
                                            ConstMatrixView<Scalar> y_bar,
                                            ConstMatrixView<Scalar> y_dot_bar,
                                            MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                            Scalar* theta_bar, Scalar* t_bar) {
  assert(y_bar.rows() == x.rows());
  const Index ld = in_ + 1;
  mm_->backward_input(y_bar, w_ + 1, ld, x_bar);
  mm_->backward_input(y_dot_bar, w_ + 1, ld, x_dot_bar);
  affine_backward(t, x, y_bar, theta_bar, t_bar);
  if (theta_bar) mm_->backward_weight(y_dot_bar, x_dot, theta_bar + 1, ld);
}

template class ConcatLinear<float>;
template class ConcatLinear<double>;

}  // namespace neuralode::nn
