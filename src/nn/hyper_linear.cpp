// HyperLinear: p = H(t) (the hypernetwork at batch 1), W = p[0 : out*in) as out x in row-major,
// b = p[out*in : out*in + out), y = x W^T + b. Reverse pass: p_bar = [y_bar^T x, colsum(y_bar)],
// then H's own reverse pass gives theta_bar and, through its input t, t_bar.
#include "neuralode/nn/hyper_linear.hpp"

#include <cassert>

#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/linear.hpp"
#include "nn/backend/matmul.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
HyperLinear<Scalar>::HyperLinear(Index in, Index out, Index hidden)
    : in_(in),
      out_(out),
      t_in_(1, 1),
      p_(1, out * in + out),
      p_bar_(1, out * in + out),
      t_in_bar_(1, 1),
      tt_in_(1, 1),
      tp_(1, out * in + out),
      zero_t_(Matrix<Scalar>::Zero(1, 1)),
      zero_p_(Matrix<Scalar>::Zero(1, out * in + out)),
      tp_dot_(1, out * in + out),
      t_dot_bar_(1, 1),
      mm_(detail::make_matmul<Scalar>()) {
  detail::require_positive("HyperLinear", "in", in);
  detail::require_positive("HyperLinear", "out", out);
  detail::require_positive("HyperLinear", "hidden", hidden);
  hyper_.add(std::make_unique<Linear<Scalar>>(1, hidden));
  hyper_.add(std::make_unique<Activation<Scalar>>(ActivationFn::tanh, hidden));
  hyper_.add(std::make_unique<Linear<Scalar>>(hidden, hidden));
  hyper_.add(std::make_unique<Activation<Scalar>>(ActivationFn::tanh, hidden));
  hyper_.add(std::make_unique<Linear<Scalar>>(hidden, out * in + out));
}

template <class Scalar>
HyperLinear<Scalar>::~HyperLinear() = default;

template <class Scalar>
std::vector<ParamView> HyperLinear<Scalar>::param_specs() const {
  auto v = hyper_.param_specs();
  for (auto& p : v) p.name = "hyper." + p.name;
  return v;
}

template <class Scalar>
void HyperLinear<Scalar>::forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  assert(x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  t_in_(0, 0) = t;
  hyper_.forward(t, ConstMatrixView<Scalar>(t_in_.data(), 1, 1),
                 MatrixView<Scalar>(p_.data(), 1, p_.cols()));
  mm_->forward(x, p_.data(), in_, p_.data() + out_ * in_, y);
  x_ = x.data();
  rows_ = x.rows();
}

template <class Scalar>
void HyperLinear<Scalar>::hyper_backward(ConstMatrixView<Scalar> y_bar, const Scalar* x,
                                         const Scalar* y_dot_bar, const Scalar* x_dot, Index rows,
                                         Scalar* theta_bar, Scalar* t_bar, bool tangent) {
  if (!theta_bar && !t_bar) return;
  p_bar_.setZero();
  mm_->backward_weight(y_bar, ConstMatrixView<Scalar>(x, rows, in_), p_bar_.data(), in_);
  if (y_dot_bar) {
    mm_->backward_weight(ConstMatrixView<Scalar>(y_dot_bar, rows, out_),
                         ConstMatrixView<Scalar>(x_dot, rows, in_), p_bar_.data(), in_);
  }
  detail::add_colsum(y_bar, p_bar_.data() + out_ * in_);
  const Index np = p_bar_.cols();
  if (tangent) {
    hyper_.backward_tangent(ConstMatrixView<Scalar>(p_bar_.data(), 1, np),
                            ConstMatrixView<Scalar>(zero_p_.data(), 1, np),
                            MatrixView<Scalar>(t_in_bar_.data(), 1, 1),
                            MatrixView<Scalar>(t_dot_bar_.data(), 1, 1), theta_bar, nullptr);
  } else {
    hyper_.backward(ConstMatrixView<Scalar>(p_bar_.data(), 1, np),
                    MatrixView<Scalar>(t_in_bar_.data(), 1, 1), theta_bar, nullptr);
  }
  if (t_bar) *t_bar += t_in_bar_(0, 0);
}

template <class Scalar>
void HyperLinear<Scalar>::backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                   Scalar* theta_bar, Scalar* t_bar) {
  assert(x_ && y_bar.rows() == rows_ && x_bar.rows() == rows_);
  mm_->backward_input(y_bar, p_.data(), in_, x_bar);
  hyper_backward(y_bar, x_, nullptr, nullptr, rows_, theta_bar, t_bar, false);
}

template <class Scalar>
void HyperLinear<Scalar>::forward_tangent(Scalar t, ConstMatrixView<Scalar> x,
                                          ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                          MatrixView<Scalar> y_dot) {
  assert(x.cols() == in_ && x_dot.rows() == x.rows());
  const Index np = tp_.cols();
  tt_in_(0, 0) = t;
  hyper_.forward_tangent(t, ConstMatrixView<Scalar>(tt_in_.data(), 1, 1),
                         ConstMatrixView<Scalar>(zero_t_.data(), 1, 1),
                         MatrixView<Scalar>(tp_.data(), 1, np),
                         MatrixView<Scalar>(tp_dot_.data(), 1, np));
  mm_->forward(x, tp_.data(), in_, tp_.data() + out_ * in_, y);
  mm_->forward(x_dot, tp_.data(), in_, nullptr, y_dot);
  tx_ = x.data();
  tx_dot_ = x_dot.data();
  trows_ = x.rows();
}

template <class Scalar>
void HyperLinear<Scalar>::backward_tangent(ConstMatrixView<Scalar> y_bar,
                                           ConstMatrixView<Scalar> y_dot_bar,
                                           MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                           Scalar* theta_bar, Scalar* t_bar) {
  assert(tx_ && y_bar.rows() == trows_);
  mm_->backward_input(y_bar, tp_.data(), in_, x_bar);
  mm_->backward_input(y_dot_bar, tp_.data(), in_, x_dot_bar);
  hyper_backward(y_bar, tx_, y_dot_bar.data(), tx_dot_, trows_, theta_bar, t_bar, true);
}

template class HyperLinear<float>;
template class HyperLinear<double>;

}  // namespace neuralode::nn
