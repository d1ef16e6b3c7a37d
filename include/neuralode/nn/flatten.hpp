// Flatten: PyTorch's nn.Flatten. Images are already flattened per sample (NCHW rows), so this is
// the identity; it exists so that compositions read like their PyTorch originals
// (... -> AdaptiveAvgPool -> Flatten -> Linear).
#pragma once

#include <string>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// y = x, y_dot = x_dot; x_bar = y_bar, x_dot_bar = y_dot_bar. No parameters; time does not
// enter; no context. features = C*H*W of the incoming image (>= 1, InvalidArgument otherwise).
template <class Scalar>
class Flatten : public TangentLayerBase<Scalar> {
 public:
  explicit Flatten(Index features);

  std::string kind() const override { return "Flatten"; }
  Index in_features() const override { return features_; }
  Index out_features() const override { return features_; }

  // Shapes: batch x features everywhere; InvalidArgument otherwise.
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
  void check(const char* what, Index rows, Index cols, Index want_rows) const;
  Index features_;
};

extern template class Flatten<float>;
extern template class Flatten<double>;

}  // namespace neuralode::nn
