// Linear: the affine layer y = x W^T + b of PyTorch's nn.Linear, with W stored out x in row-major
// (PyTorch's layout, so weights can be copied across). Small and mid sizes run on Eigen, large
// products on oneDNN (see src/nn/backend/matmul.hpp for the measured threshold).
#pragma once

#include <memory>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

namespace detail {
template <class Scalar>
class Matmul;
}

// Parameters: "weight" {out, in}, then "bias" {out} when bias is on. Time does not enter.
// Context: none (backward needs only x; the tangent pass's reverse only x and x_dot).
template <class Scalar>
class Linear : public TangentLayerBase<Scalar> {
 public:
  // in, out >= 1 (InvalidArgument otherwise).
  Linear(Index in, Index out, bool bias = true);
  ~Linear() override;

  std::string kind() const override { return "Linear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
  bool has_bias() const { return bias_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

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
  Index in_, out_;
  bool bias_;
  const Scalar* w_ = nullptr;
  const Scalar* b_ = nullptr;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace neuralode::nn
