// ConcatLinear: a time-aware affine layer y = [t, x] W^T + b, i.e. nn.Linear(in + 1, out) applied
// to the input with t prepended as a feature (torchdiffeq's and FFJORD's ConcatLinear: t is column
// 0).
#pragma once

#include <memory>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

namespace detail {
template <class Scalar>
class Matmul;
}

// Parameters: "weight" {out, in + 1} (column 0 multiplies t), "bias" {out}. The concatenation is
// never formed: y = x W_x^T + (b + t w_t), and dL/dt = sum_i colsum(y_bar)_i w_t,i. With per-row
// times, y = x W_x^T + b, then t_r w_t added to row r; dL/dt_r = y_bar_r . w_t.
// Context: none (backward needs only t and x).
template <class Scalar>
class ConcatLinear : public TangentLayerBase<Scalar> {
 public:
  ConcatLinear(Index in, Index out);
  ~ConcatLinear() override;

  std::string kind() const override { return "ConcatLinear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
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
  // y = x W_x^T + (b + t w_t) for a shared or per-row t.
  void affine_forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y);
  void affine_backward(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> y_bar,
                       Scalar* theta_bar, Scalar* t_bar);
  Index in_, out_;
  const Scalar* w_ = nullptr;  // out x (in + 1)
  const Scalar* b_ = nullptr;
  Vector<Scalar> b_eff_;   // b + t w_t
  Vector<Scalar> colsum_;  // colsum(y_bar) in the reverse passes
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class ConcatLinear<float>;
extern template class ConcatLinear<double>;

}  // namespace neuralode::nn
