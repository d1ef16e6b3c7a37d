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
// at batch 1, so its cost is independent of the batch; dL/dt flows through it.
template <class Scalar>
class HyperLinear : public Layer<Scalar> {
 public:
  HyperLinear(Index in, Index out, Index hidden = 32);
  ~HyperLinear() override;

  std::string kind() const override { return "HyperLinear"; }
  Index in_features() const override { return in_; }
  Index out_features() const override { return out_; }
  std::vector<ParamView> param_specs() const override;
  void bind(Scalar* params) override { hyper_.bind(params); }

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  void hyper_backward(ConstMatrixView<Scalar> y_bar, const Scalar* x, const Scalar* y_dot_bar,
                      const Scalar* x_dot, Index rows, Scalar* theta_bar, Scalar* t_bar,
                      bool tangent);
  Index in_, out_;
  Sequential<Scalar> hyper_;
  // Batch-1 hypernetwork buffers: input t, output p, their cotangents; the tangent pass runs the
  // hypernetwork's own tangent pass (with zero tangent) so its cache stays separate from forward's.
  Matrix<Scalar> t_in_, p_, p_bar_, t_in_bar_;
  Matrix<Scalar> tt_in_, tp_, zero_t_, zero_p_, tp_dot_, t_dot_bar_;
  const Scalar *x_ = nullptr, *tx_ = nullptr, *tx_dot_ = nullptr;
  Index rows_ = 0, trows_ = 0;
  std::unique_ptr<detail::Matmul<Scalar>> mm_;
};

extern template class HyperLinear<float>;
extern template class HyperLinear<double>;

}  // namespace neuralode::nn
