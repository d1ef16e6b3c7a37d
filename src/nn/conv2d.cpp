// Conv2d: a thin wrapper over the shared convolution layer core (src/nn/conv2d_core.cpp).
#include "neuralode/nn/conv2d.hpp"

#include "conv2d_core.hpp"

namespace neuralode::nn {

template <class Scalar>
Conv2d<Scalar>::Conv2d(const Conv2dOptions& options)
    : core_(std::make_unique<detail::ConvLayerCore<Scalar>>(options, false, "Conv2d")) {}

template <class Scalar>
Conv2d<Scalar>::~Conv2d() = default;

template <class Scalar>
const Conv2dOptions& Conv2d<Scalar>::options() const {
  return core_->options();
}

template <class Scalar>
Index Conv2d<Scalar>::in_features() const {
  return core_->in_features();
}

template <class Scalar>
Index Conv2d<Scalar>::out_features() const {
  return core_->out_features();
}

template <class Scalar>
std::vector<ParamView> Conv2d<Scalar>::param_specs() const {
  return core_->param_specs();
}

template <class Scalar>
void Conv2d<Scalar>::bind(Scalar* params) {
  core_->bind(params);
}

template <class Scalar>
void Conv2d<Scalar>::forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                             Scalar*) {
  core_->forward(t, x, y);
}

template <class Scalar>
void Conv2d<Scalar>::backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar*,
                              ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                              Scalar* theta_bar, Scalar* t_bar) {
  core_->backward(t, x, y_bar, x_bar, theta_bar, t_bar);
}

template <class Scalar>
void Conv2d<Scalar>::forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                     ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                     MatrixView<Scalar> y_dot, Scalar*) {
  core_->forward_tangent(t, x, x_dot, y, y_dot);
}

template <class Scalar>
void Conv2d<Scalar>::backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x,
                                      ConstMatrixView<Scalar> x_dot, const Scalar*,
                                      ConstMatrixView<Scalar> y_bar,
                                      ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                                      MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                                      Scalar* t_bar) {
  core_->backward_tangent(t, x, x_dot, y_bar, y_dot_bar, x_bar, x_dot_bar, theta_bar, t_bar);
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace neuralode::nn
