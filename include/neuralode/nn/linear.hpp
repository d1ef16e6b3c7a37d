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
// Workspace: none of its own; keeps a view of x (and x_dot) for the reverse passes.
template <class Scalar>
class Linear : public Layer<Scalar> {
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

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  // Records nothing: backward needs only x.
  Index record_size(Index) const override { return 0; }
  void backward_recorded(ConstMatrixView<Scalar> x, const Scalar* record,
                         ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                         Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  Index in_, out_;
  bool bias_;
  const Scalar* w_ = nullptr;
  const Scalar* b_ = nullptr;
  const Scalar* x_ = nullptr;   // input of the last forward
  const Scalar* tx_ = nullptr;  // inputs of the last tangent pass
  const Scalar* tx_dot_ = nullptr;
  Index rows_ = 0, trows_ = 0;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace neuralode::nn
