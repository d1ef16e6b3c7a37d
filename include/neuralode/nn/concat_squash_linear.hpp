// ConcatSquashLinear (FFJORD, Grathwohl et al. 2019, diffeq_layers.ConcatSquashLinear): a linear
// layer whose output is gated and shifted by functions of t:
//   y = (x W^T + b) * sigmoid(t w_g + b_g) + t w_hb        (* element-wise, per output feature)
#pragma once

#include <memory>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

namespace detail {
template <class Scalar>
class Matmul;
}

// Parameters (FFJORD's order, without its leading underscores): "layer.weight" {out, in},
// "layer.bias" {out}, "hyper_bias.weight" {out, 1} (w_hb; no bias, as in FFJORD),
// "hyper_gate.weight" {out, 1} (w_g), "hyper_gate.bias" {out} (b_g).
// Workspace: z = x W^T + b (batch x out), and z_dot for the tangent pass.
template <class Scalar>
class ConcatSquashLinear : public Layer<Scalar> {
 public:
  ConcatSquashLinear(Index in, Index out);
  ~ConcatSquashLinear() override;

  std::string kind() const override { return "ConcatSquashLinear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  void gate(Scalar t, Vector<Scalar>& g) const;
  void time_backward(Scalar t, const Vector<Scalar>& g, const Vector<Scalar>& g_bar,
                     const Vector<Scalar>& y_bar_colsum, Scalar* theta_bar, Scalar* t_bar) const;
  Index in_, out_;
  const Scalar *w_ = nullptr, *b_ = nullptr, *w_hb_ = nullptr, *w_g_ = nullptr, *b_g_ = nullptr;
  std::vector<Scalar> z_, tz_, tz_dot_, z_bar_, z_dot_bar_;  // grow-only, batch x out
  Vector<Scalar> g_, tg_, g_bar_, colsum_;
  Index rows_ = 0, trows_ = 0;
  const Scalar *x_ = nullptr, *tx_ = nullptr, *tx_dot_ = nullptr;
  Scalar t_ = 0, tt_ = 0;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class ConcatSquashLinear<float>;
extern template class ConcatSquashLinear<double>;

}  // namespace neuralode::nn
