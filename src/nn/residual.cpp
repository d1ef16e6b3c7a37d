// Residual: y = x + h * inner(t, x); see residual.hpp. The reverse passes hand the inner layer
// h * y_bar, so its parameter gradient carries the factor h as well as its input gradient.
#include "neuralode/nn/residual.hpp"

#include <cmath>

#include "neuralode/error.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
Residual<Scalar>::Residual(std::unique_ptr<Layer<Scalar>> inner, double h)
    : inner_(std::move(inner)), h_(h) {
  if (!inner_) throw InvalidArgument("Residual: the inner layer is null");
  if (inner_->in_features() != inner_->out_features()) {
    throw InvalidArgument("Residual: the inner layer (" + inner_->kind() + ") maps " +
                          std::to_string(inner_->in_features()) + " features to " +
                          std::to_string(inner_->out_features()) +
                          "; x + h f(x) needs f to keep the size");
  }
  if (!std::isfinite(h)) throw InvalidArgument("Residual: the step h must be finite");
  inner_tangent_ = inner_->tangent();
}

template <class Scalar>
ConstMatrixView<Scalar> Residual<Scalar>::scaled(ConstMatrixView<Scalar> m,
                                                 std::vector<Scalar>& buf) const {
  if (h_ == 1.0) return m;
  MatrixView<Scalar> out = detail::grow_view(buf, m.rows(), m.cols());
  out = m * static_cast<Scalar>(h_);
  return ConstMatrixView<Scalar>(out.data(), m.rows(), m.cols());
}

namespace {

// y = x + h inner(t, x), with inner(t, x) already in y.
template <class Scalar>
void add_skip(double h, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) {
  if (h == 1.0)
    y += x;
  else
    y = x + static_cast<Scalar>(h) * y;
}

}  // namespace

template <class Scalar>
void Residual<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                               Scalar* ctx) {
  inner_->forward(t, x, y, ctx);
  add_skip(h_, x, y);
}

template <class Scalar>
void Residual<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                Scalar* theta_bar, Scalar* t_bar) {
  inner_->backward(t, x, ctx, scaled(y_bar, scaled_), x_bar, theta_bar, t_bar);
  x_bar += y_bar;
}

template <class Scalar>
void Residual<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                       ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                       MatrixView<Scalar> y_dot, Scalar* ctx) {
  inner_tangent_->forward_tangent(t, x, x_dot, y, y_dot, ctx);
  const auto h = static_cast<Scalar>(h_);
  y = x + h * y;
  y_dot = x_dot + h * y_dot;
}

template <class Scalar>
void Residual<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                        ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
                                        ConstMatrixView<Scalar> y_bar,
                                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                                        Scalar* t_bar) {
  inner_tangent_->backward_tangent(t, x, x_dot, ctx, scaled(y_bar, scaled_),
                                   scaled(y_dot_bar, scaled_dot_), x_bar, x_dot_bar, theta_bar,
                                   t_bar);
  x_bar += y_bar;
  x_dot_bar += y_dot_bar;
}

template class Residual<float>;
template class Residual<double>;

}  // namespace neuralode::nn
