// What Conv2d and ConcatConv2d share: parameter layout, shape checks, the convolution kernel, and
// the per-pixel offset map added after it (bias, plus t times the time channel's filter response
// for ConcatConv2d). The two public classes are thin wrappers around this.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "conv2d_geometry.hpp"
#include "conv2d_kernel.hpp"
#include "neuralode/nn/conv2d.hpp"

namespace neuralode::nn::detail {

template <class Scalar>
class ConvLayerCore {
 public:
  // time_channel: ConcatConv2d (weights {out, in + 1, k, k}, channel 0 sees t).
  ConvLayerCore(const Conv2dOptions& options, bool time_channel, const char* kind);

  const Conv2dOptions& options() const { return options_; }
  Index in_features() const { return g_.in_features(); }
  Index out_features() const { return g_.out_features(); }
  std::vector<ParamView> param_specs() const;
  void bind(Scalar* params);

  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y);
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> y_bar,
                MatrixView<Scalar> x_bar, Scalar* theta_bar, Scalar* t_bar);
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot);
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar);

 private:
  using Row = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;
  // Throws InvalidArgument unless m is rows x cols (rows < 0: any batch).
  void check(const char* what, Index rows, Index cols, Index want_rows, Index want_cols) const;
  // y (rows) += bias[o] + t * M[o, pixel] (row r: t_r for per-row times).
  void add_offset(Time<Scalar> t, MatrixView<Scalar> y);
  // Gradients of the offset map from y_bar: bias, time filter and t (t_bar[r] per row).
  void offset_backward(Time<Scalar> t, ConstMatrixView<Scalar> y_bar, Scalar* theta_bar,
                       Scalar* t_bar);
  // M[o, pixel] = sum of the time filter over the taps of pixel that read inside the image.
  void time_map(Row& m) const;
  // Whether tap (kh, kw) of output pixel (oh, ow) reads inside the image (not the padding).
  bool inside(Index oh, Index ow, Index kh, Index kw) const;
  const Scalar* image_weights() const { return w_ + (time_channel_ ? kk_ : 0); }

  Conv2dOptions options_;
  ConvGeometry g_;
  std::string name_;  // "Conv2d(64->64, 3x3, ...)" for messages
  bool time_channel_;
  Index kk_;   // k * k
  Index ldw_;  // (in + time_channel) * k * k: one output channel's filter
  const Scalar* w_ = nullptr;
  const Scalar* b_ = nullptr;
  std::unique_ptr<ConvKernel<Scalar>> kernel_;
  // out_features(): the offset map; column sums of a cotangent; M (per-row times)
  Row offset_, colsum_, tmap_;
};

extern template class ConvLayerCore<float>;
extern template class ConvLayerCore<double>;

}  // namespace neuralode::nn::detail
