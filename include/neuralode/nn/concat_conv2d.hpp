// ConcatConv2d: a convolution that sees time as an extra input channel, torchdiffeq's
// ConcatConv2d (examples/odenet_mnist.py, Chen et al. 2018): a constant channel filled with t is
// prepended to the image channels, and an ordinary Conv2d runs over in_channels + 1 channels.
#pragma once

#include <memory>
#include <string>

#include "neuralode/nn/conv2d.hpp"

namespace neuralode::nn {

// y = Conv2d_{in+1 -> out}(cat([t * ones(1, H, W), x], channel axis)). The t channel is zero-padded
// like the image, so near the border fewer of its taps contribute, exactly as in torchdiffeq.
// Parameters: "weight" {out, in + 1, k, k} (channel 0 is the time channel, as torchdiffeq's
// _layer.weight), then "bias" {out} when options.bias. options.in_channels counts the image
// channels only. Gradients: backward adds y_bar^T dy/dt into *t_bar (the weight-gradient-like
// contraction of y_bar with the time channel's filter, summed over the batch); the tangent pass
// differentiates in x only, so its y_dot does not depend on t.
//
// Implementation: the constant channel is not convolved. Its contribution is t * M[o, i, j] with
// M the time filter summed over the taps that land inside the image, so the convolution proper
// runs over in_channels (64 channels block evenly into oneDNN's 16-wide layout; 65 would pad to
// 80, costing 25% more arithmetic: measured 2.13 vs 1.67 ms forward at 64->64, 3x3, 6x6, batch
// 128).
template <class Scalar>
class ConcatConv2d : public TangentLayerBase<Scalar> {
 public:
  explicit ConcatConv2d(const Conv2dOptions& options);  // validates (InvalidArgument)
  ~ConcatConv2d() override;

  const Conv2dOptions& options() const;
  std::string kind() const override { return "ConcatConv2d"; }
  Index in_features() const override;
  Index out_features() const override;
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

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

extern template class ConcatConv2d<float>;
extern template class ConcatConv2d<double>;

}  // namespace neuralode::nn
