// HyperLinear: a linear layer with time-varying weights theta(t), y = x W(t)^T + b(t), where
// [W(t), b(t)] is the output of a small network of t (a hypernetwork), as in the continuous
// normalizing flow example of torchdiffeq (examples/cnf.py, class HyperNetwork).
#pragma once

#include <memory>

#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/sequential.hpp"

namespace neuralode::nn {

namespace detail {
template <class Scalar>
class Matmul;
}

// The hypernetwork is Linear(1, hidden) -> tanh -> Linear(hidden, hidden) -> tanh ->
// Linear(hidden, out*in + out), as torchdiffeq's (which additionally splits its output into the
// W, U, G, B of a specific width-w field; here the output is one general W (out x in, row-major)
// and b). Parameters are the hypernetwork's, named "hyper.<i>.weight/bias". It runs once per call
// at batch 1, so its cost is independent of the batch; dL/dt flows through it. With per-row times
// it runs once per run of rows at equal t in forward, and once per row in the reverse passes
// (each row's dL/dt_r is its own); tangent passes take a shared t only (InvalidArgument).
template <class Scalar>
class HyperLinear : public TangentLayerBase<Scalar> {
 public:
  HyperLinear(Index in, Index out, Index hidden = 32);
  ~HyperLinear() override;

  std::string kind() const override { return "HyperLinear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override { hyper_.bind(params); }

  // Shared t: the hypernetwork's output p and its context. Per-row times keep nothing: each
  // row's p is recomputed from t_r in backward (a batch-1 hypernetwork pass per row).
  Index context_size(Index batch) const override;
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  Index tangent_context_size(Index batch) const override;
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  Index np() const { return out_ * in_ + out_; }
  // p = H(t); hctx: the hypernetwork's context, or null (inference).
  void hyper_forward(Scalar t, Scalar* p, Scalar* hctx);
  // p_bar_ = d<y_bar, y>/dp (plus the tangent term), then through H: theta_bar, t_bar.
  void hyper_backward(Scalar t, const Scalar* hctx, ConstMatrixView<Scalar> y_bar,
                      ConstMatrixView<Scalar> x, const Scalar* y_dot_bar, const Scalar* x_dot,
                      Scalar* theta_bar, Scalar* t_bar, bool tangent);
  Index in_, out_;
  Sequential<Scalar> hyper_;
  // Scratch: p and the hypernetwork's context of a recomputation (per-row times), p's cotangent,
  // t's cotangents, a zero tangent of t and p, and p_dot (zero: t is not perturbed).
  std::vector<Scalar> p_, hctx_;
  Matrix<Scalar> p_bar_, t_in_bar_, zero_t_, zero_p_, tp_dot_, t_dot_bar_;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class HyperLinear<float>;
extern template class HyperLinear<double>;

}  // namespace neuralode::nn
