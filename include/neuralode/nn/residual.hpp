// Residual: y = x + h * inner(t, x), a ResNet block (He et al. 2016) with an optional step h. With
// h = 1 it is torchdiffeq's ResBlock shortcut; with h = the Euler step it is one Euler step of the
// field `inner`, which is the identity the reference text builds Neural ODEs on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "neuralode/nn/layer.hpp"

namespace neuralode::nn {

// Parameters are the inner layer's, under the inner layer's names. Time enters only through the
// inner layer. Scratch: one batch x features buffer for the scaled cotangents when h != 1. Tangent
// passes are offered when the inner layer offers them.
template <class Scalar>
class Residual : public Layer<Scalar>, public TangentLayer<Scalar> {
 public:
  // inner must map n -> n features (InvalidArgument naming both otherwise); h finite.
  explicit Residual(std::unique_ptr<Layer<Scalar>> inner, double h = 1.0);

  Layer<Scalar>& inner() { return *inner_; }
  double step() const { return h_; }

  std::string kind() const override { return "Residual"; }
  Index in_features() const override { return inner_->in_features(); }
  Index out_features() const override { return inner_->out_features(); }
  std::vector<ParamView> param_specs() const override { return inner_->param_specs(); }
  void bind(Scalar* params) override { inner_->bind(params); }

  TangentLayer<Scalar>* tangent() override { return inner_tangent_ ? this : nullptr; }
  // The inner layer's contexts.
  Index context_size(Index batch) const override { return inner_->context_size(batch); }
  void forward(Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  Index tangent_context_size(Index batch) const override {
    return inner_tangent_->tangent_context_size(batch);
  }
  void forward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot, Scalar* ctx) override;
  void backward_tangent(Time<Scalar> t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                        const Scalar* ctx, ConstMatrixView<Scalar> y_bar,
                        ConstMatrixView<Scalar> y_dot_bar, MatrixView<Scalar> x_bar,
                        MatrixView<Scalar> x_dot_bar, Scalar* theta_bar, Scalar* t_bar) override;

 private:
  // h * m, or m itself when h == 1 (no copy).
  ConstMatrixView<Scalar> scaled(ConstMatrixView<Scalar> m, std::vector<Scalar>& buf) const;
  std::unique_ptr<Layer<Scalar>> inner_;
  TangentLayer<Scalar>* inner_tangent_ = nullptr;
  double h_;
  std::vector<Scalar> scaled_, scaled_dot_;  // grow-only
};

extern template class Residual<float>;
extern template class Residual<double>;

}  // namespace neuralode::nn
