// ConcatSquashLinear: y = z * g + t w_hb with z = x W^T + b and g = sigmoid(t w_g + b_g), as FFJORD
// (Grathwohl et al. 2019, lib/layers/diffeq_layers/basic.py). With s = g (1 - g):
//   z_bar = y_bar * g,  g_bar = colsum(y_bar * z),
//   w_g_bar += t g_bar s,  b_g_bar += g_bar s,  w_hb_bar += t colsum(y_bar),
//   t_bar += sum(g_bar s w_g) + sum(colsum(y_bar) w_hb).
#include "neuralode/nn/concat_squash_linear.hpp"

#include <cassert>
#include <cmath>

#include "nn/backend/matmul.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {
template <class Scalar>
ConcatSquashLinear<Scalar>::ConcatSquashLinear(Index in, Index out)
    : in_(in),
      out_(out),
      g_(out),
      tg_(out),
      g_bar_(out),
      colsum_(out),
      mm_(detail::make_matmul<Scalar>()) {
  detail::require_positive("ConcatSquashLinear", "in", in);
  detail::require_positive("ConcatSquashLinear", "out", out);
}

template <class Scalar>
ConcatSquashLinear<Scalar>::~ConcatSquashLinear() = default;

template <class Scalar>
std::vector<ParamView> ConcatSquashLinear<Scalar>::param_specs() const {
  const Index w = out_ * in_;
  return {{"layer.weight", {out_, in_}, 0},
          {"layer.bias", {out_}, w},
          {"hyper_bias.weight", {out_, 1}, w + out_},
          {"hyper_gate.weight", {out_, 1}, w + 2 * out_},
          {"hyper_gate.bias", {out_}, w + 3 * out_}};
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::bind(Scalar* params) {
  w_ = params;
  if (!params) {
    b_ = w_hb_ = w_g_ = b_g_ = nullptr;
    return;
  }
  b_ = w_ + out_ * in_;
  w_hb_ = b_ + out_;
  w_g_ = w_hb_ + out_;
  b_g_ = w_g_ + out_;
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::gate(Scalar t, Vector<Scalar>& g) const {
  for (Index i = 0; i < out_; ++i)
    g[i] = Scalar(1) / (Scalar(1) + std::exp(-(t * w_g_[i] + b_g_[i])));
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::time_backward(Scalar t, const Vector<Scalar>& g,
                                               const Vector<Scalar>& g_bar,
                                               const Vector<Scalar>& y_bar_colsum,
                                               Scalar* theta_bar, Scalar* t_bar) const {
  const Index w = out_ * in_;
  Scalar t_acc = 0;
  for (Index i = 0; i < out_; ++i) {
    const Scalar gs = g_bar[i] * g[i] * (Scalar(1) - g[i]);
    t_acc += gs * w_g_[i] + y_bar_colsum[i] * w_hb_[i];
    if (theta_bar) {
      theta_bar[w + out_ + i] += t * y_bar_colsum[i];  // hyper_bias.weight
      theta_bar[w + 2 * out_ + i] += t * gs;           // hyper_gate.weight
      theta_bar[w + 3 * out_ + i] += gs;               // hyper_gate.bias
    }
  }
  if (t_bar) *t_bar += t_acc;
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x,
                                         MatrixView<Scalar> y) {
  assert(w_ && x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  rows_ = x.rows();
  gate(t, g_);
  auto z = detail::grow_view(z_, rows_, out_);
  mm_->forward(x, w_, in_, b_, z);
  Eigen::Map<const Eigen::Matrix<Scalar, 1, Eigen::Dynamic>> w_hb(w_hb_, out_);
  for (Index r = 0; r < rows_; ++r) y.row(r) = z.row(r).cwiseProduct(g_.transpose()) + t * w_hb;
  x_ = x.data();
  t_ = t;
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                          Scalar* theta_bar, Scalar* t_bar) {
  const Index rows = rows_;
  assert(x_ && y_bar.rows() == rows && x_bar.rows() == rows);
  ConstMatrixView<Scalar> z(z_.data(), rows, out_);
  auto z_bar = detail::grow_view(z_bar_, rows, out_);
  z_bar.noalias() = y_bar * g_.asDiagonal();
  ConstMatrixView<Scalar> cz_bar(z_bar.data(), rows, out_);
  mm_->backward_input(cz_bar, w_, in_, x_bar);
  if (theta_bar) {
    mm_->backward_weight(cz_bar, ConstMatrixView<Scalar>(x_, rows, in_), theta_bar, in_);
    detail::add_colsum(cz_bar, theta_bar + out_ * in_);
  }
  if (theta_bar || t_bar) {
    g_bar_.setZero();
    colsum_.setZero();
    for (Index r = 0; r < rows; ++r) {
      g_bar_ += y_bar.row(r).cwiseProduct(z.row(r)).transpose();
      colsum_ += y_bar.row(r).transpose();
    }
    time_backward(t_, g_, g_bar_, colsum_, theta_bar, t_bar);
  }
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::forward_tangent(Scalar t, ConstMatrixView<Scalar> x,
                                                 ConstMatrixView<Scalar> x_dot,
                                                 MatrixView<Scalar> y, MatrixView<Scalar> y_dot) {
  assert(w_ && x.cols() == in_ && x_dot.rows() == x.rows());
  const Index rows = trows_ = x.rows();
  gate(t, tg_);
  auto z = detail::grow_view(tz_, rows, out_);
  auto z_dot = detail::grow_view(tz_dot_, rows, out_);
  mm_->forward(x, w_, in_, b_, z);
  mm_->forward(x_dot, w_, in_, nullptr, z_dot);
  Eigen::Map<const Eigen::Matrix<Scalar, 1, Eigen::Dynamic>> w_hb(w_hb_, out_);
  for (Index r = 0; r < rows; ++r) {
    y.row(r) = z.row(r).cwiseProduct(tg_.transpose()) + t * w_hb;
    y_dot.row(r) = z_dot.row(r).cwiseProduct(tg_.transpose());
  }
  tx_ = x.data();
  tx_dot_ = x_dot.data();
  tt_ = t;
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::backward_tangent(ConstMatrixView<Scalar> y_bar,
                                                  ConstMatrixView<Scalar> y_dot_bar,
                                                  MatrixView<Scalar> x_bar,
                                                  MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                                                  Scalar* t_bar) {
  const Index rows = trows_;
  assert(tx_ && y_bar.rows() == rows);
  ConstMatrixView<Scalar> z(tz_.data(), rows, out_), z_dot(tz_dot_.data(), rows, out_);
  auto z_bar = detail::grow_view(z_bar_, rows, out_);
  auto z_dot_bar = detail::grow_view(z_dot_bar_, rows, out_);
  z_bar.noalias() = y_bar * tg_.asDiagonal();
  z_dot_bar.noalias() = y_dot_bar * tg_.asDiagonal();
  ConstMatrixView<Scalar> cz_bar(z_bar.data(), rows, out_),
      cz_dot_bar(z_dot_bar.data(), rows, out_);
  mm_->backward_input(cz_bar, w_, in_, x_bar);
  mm_->backward_input(cz_dot_bar, w_, in_, x_dot_bar);
  if (theta_bar) {
    mm_->backward_weight(cz_bar, ConstMatrixView<Scalar>(tx_, rows, in_), theta_bar, in_);
    mm_->backward_weight(cz_dot_bar, ConstMatrixView<Scalar>(tx_dot_, rows, in_), theta_bar, in_);
    detail::add_colsum(cz_bar, theta_bar + out_ * in_);
  }
  if (theta_bar || t_bar) {
    // y_dot = z_dot * g also depends on g: its gate cotangent is colsum(y_dot_bar * z_dot).
    g_bar_.setZero();
    colsum_.setZero();
    for (Index r = 0; r < rows; ++r) {
      g_bar_ += (y_bar.row(r).cwiseProduct(z.row(r)) + y_dot_bar.row(r).cwiseProduct(z_dot.row(r)))
                    .transpose();
      colsum_ += y_bar.row(r).transpose();
    }
    time_backward(tt_, tg_, g_bar_, colsum_, theta_bar, t_bar);
  }
}

template class ConcatSquashLinear<float>;
template class ConcatSquashLinear<double>;

}  // namespace neuralode::nn
