// Flatten: the identity on NCHW rows; see flatten.hpp.
#include "neuralode/nn/flatten.hpp"

#include <cassert>

#include "neuralode/error.hpp"

namespace neuralode::nn {

template <class Scalar>
Flatten<Scalar>::Flatten(Index features) : features_(features) {
  if (features < 1) {
    throw InvalidArgument("Flatten: features = " + std::to_string(features) +
                          " must be >= 1 (C*H*W of the incoming image)");
  }
}

template <class Scalar>
void Flatten<Scalar>::check(const char* what, Index rows, Index cols, Index want_rows) const {
  if (cols == features_ && (want_rows < 0 || rows == want_rows)) return;
  throw InvalidArgument("Flatten(" + std::to_string(features_) + "): " + what + " is " +
                        std::to_string(rows) + " x " + std::to_string(cols) + ", expected " +
                        (want_rows < 0 ? std::string("batch") : std::to_string(want_rows)) + " x " +
                        std::to_string(features_));
}

template <class Scalar>
void Flatten<Scalar>::forward(Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                              Scalar*) {
  check("x", x.rows(), x.cols(), -1);
  check("y", y.rows(), y.cols(), x.rows());
  y = x;
}

template <class Scalar>
void Flatten<Scalar>::backward(Time<Scalar>, ConstMatrixView<Scalar> x, const Scalar*,
                               ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar*,
                               Scalar*) {
  const Index rows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), rows_);
  check("x_bar", x_bar.rows(), x_bar.cols(), rows_);
  x_bar = y_bar;
}

template <class Scalar>
void Flatten<Scalar>::forward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                      ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                      MatrixView<Scalar> y_dot, Scalar*) {
  check("x", x.rows(), x.cols(), -1);
  check("x_dot", x_dot.rows(), x_dot.cols(), x.rows());
  check("y", y.rows(), y.cols(), x.rows());
  check("y_dot", y_dot.rows(), y_dot.cols(), x.rows());
  y = x;
  y_dot = x_dot;
}

template <class Scalar>
void Flatten<Scalar>::backward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                       ConstMatrixView<Scalar>, const Scalar*,
                                       ConstMatrixView<Scalar> y_bar,
                                       ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                                       MatrixView<Scalar> x_dot_bar, Scalar*, Scalar*) {
  const Index trows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), trows_);
  check("y_dot_bar", y_dot_bar.rows(), y_dot_bar.cols(), trows_);
  check("x_bar", x_bar.rows(), x_bar.cols(), trows_);
  check("x_dot_bar", x_dot_bar.rows(), x_dot_bar.cols(), trows_);
  x_bar = y_bar;
  x_dot_bar = y_dot_bar;
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace neuralode::nn
