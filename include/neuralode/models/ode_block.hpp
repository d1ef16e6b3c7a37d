// OdeBlock: an ODE solve used as a layer (an "implicit layer"): y = x(t1) where dx/dt = f(t, x)
// and x(t0) = the block's input. This is Chen et al.'s replacement for a stack of residual blocks:
// the solver chooses how many evaluations of f the block costs, and with the adjoint method its
// memory does not grow with that number.
//
//   auto block = std::make_unique<models::OdeBlock<float>>(std::move(field_layers),
//       models::OdeBlockOptions{.solve = {.method = "dopri5", .rtol = 1e-3, .atol = 1e-3},
//                               .grad = {.method = "adjoint"}});
//   sequential.add(std::move(block));   // then bind, forward and backward as any layer
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "neuralode/grad/gradient_method.hpp"
#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/ode/solution.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solver_workspace.hpp"

namespace neuralode::models {

struct OdeBlockOptions {
  // The integration interval; torchdiffeq's ODEBlock integrates over [0, 1]. t1 != t0.
  double t0 = 0;
  double t1 = 1;
  // The solver (method, rtol, atol, ...). ODE-Net: dopri5 with rtol = atol = 1e-3.
  ode::SolveOptions solve;
  // How backward() differentiates the solve: adjoint (ODE-Net: memory flat in the number of
  // steps), direct (RK-Net: backpropagation through the solver's steps), checkpoint or binomial.
  grad::GradOptions grad;
  // Throws InvalidArgument naming the field.
  void validate() const;
};

// Parameters: those of the field's root layer, under its names. The layer's own t argument is
// ignored (the block integrates its own interval), so the block adds nothing to *t_bar.
// Training mode (the default) keeps what backward() needs, as the gradient method decides; in
// evaluation mode (set_training(false)) forward() runs a plain solve that keeps nothing, and
// backward() throws. Tangent passes are not supported (InvalidArgument): nothing in neuralode
// nests an ODE block inside a flow.
template <class Scalar>
class OdeBlock : public nn::Layer<Scalar> {
 public:
  // field_root maps n -> n features (InvalidArgument otherwise).
  OdeBlock(std::unique_ptr<nn::Layer<Scalar>> field_root, OdeBlockOptions options);

  const OdeBlockOptions& options() const { return options_; }
  nn::LayerField<Scalar>& field() { return field_; }
  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  // Evaluations of f in the last forward() and in the last backward() (-1 before any).
  std::int64_t last_nfe_forward() const { return nfe_forward_; }
  std::int64_t last_nfe_backward() const { return nfe_backward_; }
  // The gradient method's report of the last training forward/backward pair.
  const grad::GradStats& grad_stats() const { return method_->stats(); }

  std::string kind() const override { return "OdeBlock"; }
  Index in_features() const override { return field_.dim(); }
  Index out_features() const override { return field_.dim(); }
  std::vector<nn::ParamView> param_specs() const override { return field_.param_views(); }
  void bind(Scalar* params) override { field_.use_external_params(params); }

  void forward(Scalar t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y) override;
  void backward(ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;
  void forward_tangent(Scalar t, ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> x_dot,
                       MatrixView<Scalar> y, MatrixView<Scalar> y_dot) override;
  void backward_tangent(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> y_dot_bar,
                        MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar, Scalar* theta_bar,
                        Scalar* t_bar) override;

 private:
  OdeBlockOptions options_;
  nn::LayerField<Scalar> field_;
  std::unique_ptr<grad::GradientMethod<Scalar>> method_;
  Scalar times_[2];
  bool training_ = true;
  bool have_training_forward_ = false;
  std::int64_t nfe_forward_ = -1, nfe_backward_ = -1;
  // Evaluation-mode solve; the cotangent rows [0, y_bar] and the gradients of training mode.
  ode::SolverWorkspace<Scalar> ws_;
  ode::Solution<Scalar> eval_solution_;
  Matrix<Scalar> dl_dys_;
  grad::Gradients<Scalar> grads_;
};

extern template class OdeBlock<float>;
extern template class OdeBlock<double>;

}  // namespace neuralode::models
