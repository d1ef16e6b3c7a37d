// GlobalAvgPool: per-channel means of NCHW rows; see global_avg_pool.hpp.
#include "neuralode/nn/global_avg_pool.hpp"

#include <cassert>

#include "neuralode/error.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {

template <class Scalar>
GlobalAvgPool<Scalar>::GlobalAvgPool(Index channels, Index height, Index width)
    : channels_(channels), pixels_(height * width) {
  detail::require_positive("GlobalAvgPool", "channels", channels);
  detail::require_positive("GlobalAvgPool", "height", height);
  detail::require_positive("GlobalAvgPool", "width", width);
}

template <class Scalar>
void GlobalAvgPool<Scalar>::check(const char* what, Index rows, Index cols, Index want_rows,
                                  Index want_cols) const {
  if (cols == want_cols && (want_rows < 0 || rows == want_rows)) return;
  throw InvalidArgument("GlobalAvgPool(" + std::to_string(channels_) + " channels of " +
                        std::to_string(pixels_) + " pixels): " + what + " is " +
                        detail::shape_string(rows, cols) + ", expected " +
                        (want_rows < 0 ? std::string("batch") : std::to_string(want_rows)) + " x " +
                        std::to_string(want_cols));
}

template <class Scalar>
void GlobalAvgPool<Scalar>::pool(ConstMatrixView<Scalar> x, MatrixView<Scalar> y) const {
  const Scalar inv = Scalar(1) / static_cast<Scalar>(pixels_);
  for (Index n = 0; n < x.rows(); ++n) {
    const Scalar* row = x.data() + n * x.cols();
    for (Index c = 0; c < channels_; ++c) {
      Scalar s = 0;
      for (Index p = 0; p < pixels_; ++p) s += row[c * pixels_ + p];
      y(n, c) = s * inv;
    }
  }
}

template <class Scalar>
void GlobalAvgPool<Scalar>::spread(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar) const {
  const Scalar inv = Scalar(1) / static_cast<Scalar>(pixels_);
  for (Index n = 0; n < y_bar.rows(); ++n) {
    Scalar* row = x_bar.data() + n * x_bar.cols();
    for (Index c = 0; c < channels_; ++c) {
      const Scalar v = y_bar(n, c) * inv;
      for (Index p = 0; p < pixels_; ++p) row[c * pixels_ + p] = v;
    }
  }
}

template <class Scalar>
void GlobalAvgPool<Scalar>::forward(Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                    Scalar*) {
  check("x", x.rows(), x.cols(), -1, in_features());
  check("y", y.rows(), y.cols(), x.rows(), channels_);
  pool(x, y);
}

template <class Scalar>
void GlobalAvgPool<Scalar>::backward(Time<Scalar>, ConstMatrixView<Scalar> x, const Scalar*,
                                     ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar,
                                     Scalar*, Scalar*) {
  const Index rows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), rows_, channels_);
  check("x_bar", x_bar.rows(), x_bar.cols(), rows_, in_features());
  spread(y_bar, x_bar);
}

template <class Scalar>
void GlobalAvgPool<Scalar>::forward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                            ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                            MatrixView<Scalar> y_dot, Scalar*) {
  check("x", x.rows(), x.cols(), -1, in_features());
  check("x_dot", x_dot.rows(), x_dot.cols(), x.rows(), in_features());
  check("y", y.rows(), y.cols(), x.rows(), channels_);
  check("y_dot", y_dot.rows(), y_dot.cols(), x.rows(), channels_);
  pool(x, y);
  pool(x_dot, y_dot);
}

// The map is linear, so d<y_dot_bar, y_dot>/dx = 0 and each output's cotangent spreads alone.
template <class Scalar>
void GlobalAvgPool<Scalar>::backward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                             ConstMatrixView<Scalar>, const Scalar*,
                                             ConstMatrixView<Scalar> y_bar,
                                             ConstMatrixView<Scalar> y_dot_bar,
                                             MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                             Scalar*, Scalar*) {
  const Index trows_ = x.rows();
  check("y_bar", y_bar.rows(), y_bar.cols(), trows_, channels_);
  check("y_dot_bar", y_dot_bar.rows(), y_dot_bar.cols(), trows_, channels_);
  check("x_bar", x_bar.rows(), x_bar.cols(), trows_, in_features());
  check("x_dot_bar", x_dot_bar.rows(), x_dot_bar.cols(), trows_, in_features());
  spread(y_bar, x_bar);
  spread(y_dot_bar, x_dot_bar);
}

template class GlobalAvgPool<float>;
template class GlobalAvgPool<double>;

}  // namespace neuralode::nn
