// HyperLinear: p = H(t) (the hypernetwork at batch 1), W = p[0 : out*in) as out x in row-major,
// b = p[out*in : out*in + out), y = x W^T + b. Reverse pass: p_bar = [y_bar^T x, colsum(y_bar)],
// then H's own reverse pass gives theta_bar and, through its input t, t_bar.
#include "neuralode/nn/hyper_linear.hpp"

#include <cassert>
#include <string>

#include "neuralode/error.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/linear.hpp"
#include "nn/backend/matmul.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
HyperLinear<Scalar>::HyperLinear(Index in, Index out, Index hidden)
    : in_(in),
      out_(out),
      p_bar_(1, out * in + out),
      t_in_bar_(1, 1),
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

// Context (shared t): p, then the hypernetwork's context at batch 1.
template <class Scalar>
Index HyperLinear<Scalar>::context_size(Index) const {
  return np() + hyper_.context_size(1);
}

template <class Scalar>
Index HyperLinear<Scalar>::tangent_context_size(Index) const {
  return np() + hyper_.tangent_context_size(1);
}

template <class Scalar>
void HyperLinear<Scalar>::hyper_forward(Scalar t, Scalar* p, Scalar* hctx) {
  const Scalar t_in = t;
  hyper_.forward(t, ConstMatrixView<Scalar>(&t_in, 1, 1), MatrixView<Scalar>(p, 1, np()), hctx);
}

template <class Scalar>
void HyperLinear<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                  Scalar* ctx) {
  assert(x.cols() == in_ && y.cols() == out_ && y.rows() == x.rows());
  t = collapsed(t, x.rows());
  if (!t.per_row()) {
    Scalar* p = ctx ? ctx : detail::grow_view(p_, 1, np()).data();
    hyper_forward(t.value(), p, ctx ? ctx + np() : nullptr);
    mm_->forward(x, p, in_, p + out_ * in_, y);
    return;
  }
  Scalar* p = detail::grow_view(p_, 1, np()).data();
  for_each_time_run(t, x.rows(), [&](Scalar tr, Index r0, Index r1) {
    hyper_forward(tr, p, nullptr);
    MatrixView<Scalar> yr(y.data() + r0 * out_, r1 - r0, out_);
    mm_->forward(ConstMatrixView<Scalar>(x.data() + r0 * in_, r1 - r0, in_), p, in_, p + out_ * in_,
                 yr);
  });
}

template <class Scalar>
void HyperLinear<Scalar>::hyper_backward(Scalar t, const Scalar* hctx,
                                         ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x,
                                         const Scalar* y_dot_bar, const Scalar* x_dot,
                                         Scalar* theta_bar, Scalar* t_bar, bool tangent) {
  if (!theta_bar && !t_bar) return;
  const Index rows = x.rows();
  p_bar_.setZero();
  mm_->backward_weight(y_bar, x, p_bar_.data(), in_);
  if (y_dot_bar) {
    mm_->backward_weight(ConstMatrixView<Scalar>(y_dot_bar, rows, out_),
                         ConstMatrixView<Scalar>(x_dot, rows, in_), p_bar_.data(), in_);
  }
  detail::add_colsum(y_bar, p_bar_.data() + out_ * in_);
  const Scalar t_in = t;
  const ConstMatrixView<Scalar> tx(&t_in, 1, 1);
  const ConstMatrixView<Scalar> pb(p_bar_.data(), 1, np());
  if (tangent) {
    hyper_.backward_tangent(t, tx, ConstMatrixView<Scalar>(zero_t_.data(), 1, 1), hctx, pb,
                            ConstMatrixView<Scalar>(zero_p_.data(), 1, np()),
                            MatrixView<Scalar>(t_in_bar_.data(), 1, 1),
                            MatrixView<Scalar>(t_dot_bar_.data(), 1, 1), theta_bar, nullptr);
  } else {
    hyper_.backward(t, tx, hctx, pb, MatrixView<Scalar>(t_in_bar_.data(), 1, 1), theta_bar,
                    nullptr);
  }
  if (t_bar) *t_bar += t_in_bar_(0, 0);
}

template <class Scalar>
void HyperLinear<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                                   ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                   Scalar* theta_bar, Scalar* t_bar) {
  assert(y_bar.rows() == x.rows() && x_bar.rows() == x.rows());
  if (!t_bar) t = collapsed(t, x.rows());
  if (!t.per_row()) {
    assert(ctx);
    mm_->backward_input(y_bar, ctx, in_, x_bar);
    hyper_backward(t.value(), ctx + np(), y_bar, x, nullptr, nullptr, theta_bar, t_bar, false);
    return;
  }
  // Per row: recompute p(t_r) with its hypernetwork context, then row r's reverse pass.
  Scalar* p = detail::grow_view(p_, 1, np()).data();
  Scalar* hctx = detail::grow_view(hctx_, 1, hyper_.context_size(1)).data();
  for (Index r = 0; r < x.rows(); ++r) {
    hyper_forward(t.at(r), p, hctx);
    const ConstMatrixView<Scalar> ybr(y_bar.data() + r * out_, 1, out_);
    mm_->backward_input(ybr, p, in_, MatrixView<Scalar>(x_bar.data() + r * in_, 1, in_));
    hyper_backward(t.at(r), hctx, ybr, ConstMatrixView<Scalar>(x.data() + r * in_, 1, in_), nullptr,
                   nullptr, theta_bar, t_bar ? t_bar + r : nullptr, false);
  }
}

namespace {
void require_shared_time(bool per_row, const char* where) {
  if (per_row) {
    throw InvalidArgument(std::string("HyperLinear::") + where +
                          ": tangent passes take one time for the batch; per-row times are "
                          "accepted by forward and backward only");
  }
}
}  // namespace

// Tangent context: p, then the hypernetwork's tangent context (its tangent pass runs with a zero
// tangent of t, so p_dot = 0).
template <class Scalar>
void HyperLinear<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                          ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                          MatrixView<Scalar> y_dot, Scalar* ctx) {
  assert(ctx && x.cols() == in_ && x_dot.rows() == x.rows());
  require_shared_time(t.per_row(), "forward_tangent");
  const Scalar t_in = t.value();
  hyper_.forward_tangent(
      t, ConstMatrixView<Scalar>(&t_in, 1, 1), ConstMatrixView<Scalar>(zero_t_.data(), 1, 1),
      MatrixView<Scalar>(ctx, 1, np()), MatrixView<Scalar>(tp_dot_.data(), 1, np()), ctx + np());
  mm_->forward(x, ctx, in_, ctx + out_ * in_, y);
  mm_->forward(x_dot, ctx, in_, nullptr, y_dot);
}

template <class Scalar>
void HyperLinear<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                           ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
                                           ConstMatrixView<Scalar> y_bar,
                                           ConstMatrixView<Scalar> y_dot_bar,
                                           MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                           Scalar* theta_bar, Scalar* t_bar) {
  assert(ctx && y_bar.rows() == x.rows());
  require_shared_time(t.per_row(), "backward_tangent");
  mm_->backward_input(y_bar, ctx, in_, x_bar);
  mm_->backward_input(y_dot_bar, ctx, in_, x_dot_bar);
  hyper_backward(t.value(), ctx + np(), y_bar, x, y_dot_bar.data(), x_dot.data(), theta_bar, t_bar,
                 true);
}

template class HyperLinear<float>;
template class HyperLinear<double>;

}  // namespace neuralode::nn
