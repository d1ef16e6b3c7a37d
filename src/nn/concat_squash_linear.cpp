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
    : in_(in), out_(out), g_(out), g_bar_(out), colsum_(out), mm_(detail::make_matmul<Scalar>()) {
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
void ConcatSquashLinear<Scalar>::squash(Time<Scalar> t, ConstMatrixView<Scalar> z,
                                        const Scalar* z_dot, MatrixView<Scalar> y, Scalar* y_dot) {
  const Index rows = z.rows();
  t = collapsed(t, rows);
  Eigen::Map<const Eigen::Matrix<Scalar, 1, Eigen::Dynamic>> w_hb(w_hb_, out_);
  ConstMatrixView<Scalar> zd(z_dot, z_dot ? rows : 0, out_);
  MatrixView<Scalar> yd(y_dot, y_dot ? rows : 0, out_);
  if (!t.per_row()) gate(t.value(), g_);
  for (Index r = 0; r < rows; ++r) {
    if (t.per_row()) gate(t.at(r), g_);
    const Scalar tr = t.at(r);
    y.row(r) = z.row(r).cwiseProduct(g_.transpose()) + tr * w_hb;
    if (y_dot) yd.row(r) = zd.row(r).cwiseProduct(g_.transpose());
  }
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                         MatrixView<Scalar> y, Scalar* ctx) {
  assert(w_ && x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  // z goes into the context when backward follows, else into scratch.
  auto z = ctx ? MatrixView<Scalar>(ctx, x.rows(), out_) : detail::grow_view(z_, x.rows(), out_);
  mm_->forward(x, w_, in_, b_, z);
  squash(t, ConstMatrixView<Scalar>(z.data(), x.rows(), out_), nullptr, y, nullptr);
}

// Shared t: one gate for the batch, the gate and time cotangents summed over it. Per-row t: row r
// has gate g(t_r), and its gate and time cotangents are row r's own (t_bar[r]).
template <class Scalar>
void ConcatSquashLinear<Scalar>::squash_backward(
    Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* x_dot, const Scalar* zp,
    const Scalar* z_dotp, ConstMatrixView<Scalar> y_bar, const Scalar* y_dot_barp,
    MatrixView<Scalar> x_bar, Scalar* x_dot_barp, Scalar* theta_bar, Scalar* t_bar) {
  const Index rows = x.rows();
  const bool tangent = x_dot != nullptr;
  if (!t_bar) t = collapsed(t, rows);
  ConstMatrixView<Scalar> z(zp, rows, out_), z_dot(z_dotp, tangent ? rows : 0, out_),
      y_dot_bar(y_dot_barp, tangent ? rows : 0, out_);
  auto z_bar = detail::grow_view(z_bar_, rows, out_);
  auto z_dot_bar = detail::grow_view(z_dot_bar_, tangent ? rows : 0, out_);
  if (!t.per_row()) {
    gate(t.value(), g_);
    z_bar.noalias() = y_bar * g_.asDiagonal();
    if (tangent) z_dot_bar.noalias() = y_dot_bar * g_.asDiagonal();
  } else {
    for (Index r = 0; r < rows; ++r) {
      gate(t.at(r), g_);
      z_bar.row(r) = y_bar.row(r).cwiseProduct(g_.transpose());
      if (tangent) z_dot_bar.row(r) = y_dot_bar.row(r).cwiseProduct(g_.transpose());
    }
  }
  ConstMatrixView<Scalar> cz_bar(z_bar.data(), rows, out_),
      cz_dot_bar(z_dot_bar.data(), tangent ? rows : 0, out_);
  mm_->backward_input(cz_bar, w_, in_, x_bar);
  if (tangent) mm_->backward_input(cz_dot_bar, w_, in_, MatrixView<Scalar>(x_dot_barp, rows, in_));
  if (theta_bar) {
    mm_->backward_weight(cz_bar, x, theta_bar, in_);
    if (tangent)
      mm_->backward_weight(cz_dot_bar, ConstMatrixView<Scalar>(x_dot, rows, in_), theta_bar, in_);
    detail::add_colsum(cz_bar, theta_bar + out_ * in_);
  }
  if (!theta_bar && !t_bar) return;
  // y_dot = z_dot * g also depends on g: its gate cotangent is colsum(y_dot_bar * z_dot).
  auto gate_cotangent = [&](Index r) {
    g_bar_ += y_bar.row(r).cwiseProduct(z.row(r)).transpose();
    if (tangent) g_bar_ += y_dot_bar.row(r).cwiseProduct(z_dot.row(r)).transpose();
  };
  if (!t.per_row()) {
    g_bar_.setZero();
    colsum_.setZero();
    for (Index r = 0; r < rows; ++r) {
      if (tangent) {
        g_bar_ +=
            (y_bar.row(r).cwiseProduct(z.row(r)) + y_dot_bar.row(r).cwiseProduct(z_dot.row(r)))
                .transpose();
      } else {
        g_bar_ += y_bar.row(r).cwiseProduct(z.row(r)).transpose();
      }
      colsum_ += y_bar.row(r).transpose();
    }
    time_backward(t.value(), g_, g_bar_, colsum_, theta_bar, t_bar);
    return;
  }
  for (Index r = 0; r < rows; ++r) {
    gate(t.at(r), g_);
    g_bar_.setZero();
    gate_cotangent(r);
    colsum_ = y_bar.row(r).transpose();
    time_backward(t.at(r), g_, g_bar_, colsum_, theta_bar, t_bar ? t_bar + r : nullptr);
  }
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                          const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                                          MatrixView<Scalar> x_bar, Scalar* theta_bar,
                                          Scalar* t_bar) {
  assert(ctx && y_bar.rows() == x.rows() && x_bar.rows() == x.rows());
  squash_backward(t, x, nullptr, ctx, nullptr, y_bar, nullptr, x_bar, nullptr, theta_bar, t_bar);
}

// Tangent context: z, then z_dot.
template <class Scalar>
void ConcatSquashLinear<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                                 ConstMatrixView<Scalar> x_dot,
                                                 MatrixView<Scalar> y, MatrixView<Scalar> y_dot,
                                                 Scalar* ctx) {
  assert(ctx && w_ && x.cols() == in_ && x_dot.rows() == x.rows());
  const Index rows = x.rows();
  MatrixView<Scalar> z(ctx, rows, out_), z_dot(ctx + rows * out_, rows, out_);
  mm_->forward(x, w_, in_, b_, z);
  mm_->forward(x_dot, w_, in_, nullptr, z_dot);
  squash(t, ConstMatrixView<Scalar>(z.data(), rows, out_), z_dot.data(), y, y_dot.data());
}

template <class Scalar>
void ConcatSquashLinear<Scalar>::backward_tangent(
    Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
    ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
    MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) {
  assert(ctx && y_bar.rows() == x.rows());
  const Index rows = x.rows();
  squash_backward(t, x, x_dot.data(), ctx, ctx + rows * out_, y_bar, y_dot_bar.data(), x_bar,
                  x_dot_bar.data(), theta_bar, t_bar);
}

template class ConcatSquashLinear<float>;
template class ConcatSquashLinear<double>;

}  // namespace neuralode::nn
