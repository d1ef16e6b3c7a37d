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
// Context: z = x W^T + b (batch x out); tangent context: z and z_dot. The gate g(t) is recomputed
// in the reverse passes (out exponentials). Per-row times: each row has its own gate g(t_r).
template <class Scalar>
class ConcatSquashLinear : public TangentLayerBase<Scalar> {
 public:
  ConcatSquashLinear(Index in, Index out);
  ~ConcatSquashLinear() override;

  std::string kind() const override { return "ConcatSquashLinear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override;

  Index context_size(Index batch) const override { return batch * out_; }
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  Index tangent_context_size(Index batch) const override { return 2 * batch * out_; }
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  void gate(Scalar t, Vector<Scalar>& g) const;
  void time_backward(Scalar t, const Vector<Scalar>& g, const Vector<Scalar>& g_bar,
                     const Vector<Scalar>& y_bar_colsum, Scalar* theta_bar, Scalar* t_bar) const;
  // y = z * g + t w_hb (and y_dot = z_dot * g when z_dot is non-null), row by row for per-row t.
  void squash(Time<Scalar> t, ConstMatrixView<Scalar> z, const Scalar* z_dot, MatrixView<Scalar> y,
              Scalar* y_dot);
  // The reverse of squash and of z = x W^T + b (and z_dot = x_dot W^T when tangent).
  void squash_backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* x_dot,
                       const Scalar* z, const Scalar* z_dot, ConstMatrixView<Scalar> y_bar,
                       const Scalar* y_dot_bar, MatrixView<Scalar> x_bar, Scalar* x_dot_bar,
                       Scalar* theta_bar, Scalar* t_bar);
  Index in_, out_;
  const Scalar *w_ = nullptr, *b_ = nullptr, *w_hb_ = nullptr, *w_g_ = nullptr, *b_g_ = nullptr;
  std::vector<Scalar> z_, z_dot_, z_bar_, z_dot_bar_;  // scratch, grow-only, batch x out
  Vector<Scalar> g_, g_bar_, colsum_;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class ConcatSquashLinear<float>;
extern template class ConcatSquashLinear<double>;

}  // namespace neuralode::nn
