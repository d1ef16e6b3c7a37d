// Conv2d: PyTorch's nn.Conv2d on images flattened per sample (NCHW rows, batch x C*H*W), with the
// input height and width fixed at construction so that in_features() and out_features() are known.
// float runs on oneDNN's convolution primitives; double on an im2col + Eigen GEMM path.
#pragma once

#include <memory>
#include <string>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

namespace detail {
template <class Scalar>
class ConvLayerCore;
}

// The shape of a convolution layer (Conv2d and ConcatConv2d). Field names follow nn.Conv2d.
// Use designated initialisers: {.in_channels = 64, .out_channels = 64, .kernel_size = 3,
// .padding = 1, .height = 6, .width = 6}.
struct Conv2dOptions {
  // ---- channels and filter (no honest defaults: required, validate() rejects 0)
  // Input channels of the image (ConcatConv2d adds its time channel on top of these).
  Index in_channels = 0;
  // Output channels = number of filters.
  Index out_channels = 0;
  // Square kernel side k; weights are {out_channels, in_channels, k, k}.
  Index kernel_size = 0;
  // ---- sampling
  // Step between neighbouring output pixels, both axes. 2 halves the image (ODE-Net's
  // down-sampling uses k = 4, stride 2, padding 1); costs nothing extra per output pixel.
  Index stride = 1;
  // Zeros added on every side. k = 3, padding 1 keeps H x W at stride 1.
  Index padding = 0;
  // Adds a learned per-channel offset ("bias" {out_channels}); PyTorch's default.
  bool bias = true;
  // ---- input image (required): the height and width of every sample.
  Index height = 0;
  Index width = 0;

  // Output size, PyTorch's floor((H + 2 padding - k) / stride) + 1.
  Index out_height() const { return (height + 2 * padding - kernel_size) / stride + 1; }
  Index out_width() const { return (width + 2 * padding - kernel_size) / stride + 1; }
  // Throws InvalidArgument naming the field and its value (and `where`, e.g. "Conv2d") when a
  // count is < 1, padding < 0, or the kernel does not fit in the padded image.
  void validate(const char* where) const;
  // "64->64, 3x3, stride 1, padding 1, 6x6 input"
  std::string describe() const;
};

// y[n, o] = bias[o] + sum_{c, kh, kw} weight[o, c, kh, kw] x[n, c, s*i - p + kh, s*j - p + kw].
// Parameters: "weight" {out, in, k, k} (PyTorch's layout), then "bias" {out} when options.bias.
// PyTorch's default init (kaiming_uniform a = sqrt(5): U(+-1/sqrt(in*k*k)), bias likewise) is
// nn::init_default's rule for these names. Time does not enter.
// Context: none (backward is given x again). Scratch: float keeps oneDNN primitives and blocked
// buffers per batch size (created on the first call at that size; reused afterwards); double keeps
// one sample's im2col matrix. Not thread-safe: one instance per concurrent caller.
template <class Scalar>
class Conv2d : public TangentLayerBase<Scalar> {
 public:
  explicit Conv2d(const Conv2dOptions& options);  // validates (InvalidArgument)
  ~Conv2d() override;

  const Conv2dOptions& options() const;
  std::string kind() const override { return "Conv2d"; }
  Index in_features() const override;
  Index out_features() const override;
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  // x, y, ... have in_features() / out_features() columns and equal rows; InvalidArgument
  // otherwise, naming the argument and the expected shape.
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  bool skips_input_adjoint() const override { return true; }  // x_bar.data() may be null
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  std::unique_ptr<detail::ConvLayerCore<Scalar>> core_;
};

extern template class Conv2d<float>;
extern template class Conv2d<double>;

}  // namespace neuralode::nn
