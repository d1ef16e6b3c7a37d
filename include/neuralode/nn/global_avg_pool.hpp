// GlobalAvgPool: PyTorch's nn.AdaptiveAvgPool2d((1, 1)) followed by Flatten, on images flattened
// per sample (NCHW rows): each channel's H*W pixels are replaced by their mean. ODE-Net's head uses
// it to turn the 64 x 6 x 6 feature map into 64 features for the final Linear.
#pragma once

#include <string>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// y[n, c] = mean_p x[n, c, p]; linear, so the tangent pass applies the same map to x_dot and the
// reverse passes spread y_bar[n, c] / (H*W) over the channel's pixels. No parameters; time does
// not enter; no context.
template <class Scalar>
class GlobalAvgPool : public TangentLayerBase<Scalar> {
 public:
  // channels, height, width >= 1 (InvalidArgument naming the field otherwise).
  GlobalAvgPool(Index channels, Index height, Index width);

  std::string kind() const override { return "GlobalAvgPool"; }
  Index in_features() const override { return channels_ * pixels_; }
  Index out_features() const override { return channels_; }

  // Shapes: x, x_bar batch x C*H*W; y, y_bar batch x C (InvalidArgument otherwise).
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
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
  void check(const char* what, Index rows, Index cols, Index want_rows, Index want_cols) const;
  void pool(ConstMatrixView<Scalar> x, MatrixView<Scalar> y) const;
  void spread(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar) const;
  Index channels_, pixels_;
};

extern template class GlobalAvgPool<float>;
extern template class GlobalAvgPool<double>;

}  // namespace neuralode::nn
