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

#include <cstdint>
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
// ignored (the block integrates its own interval), so the block adds nothing to t_bar.
// Training mode (the default) with a context keeps what backward() needs, as the gradient method
// decides (its tape of the solve); in evaluation mode (set_training(false)) or without a context
// forward() runs a plain solve that keeps nothing, and a backward of such a call throws.
// Context: a tag naming the forward call. The gradient method holds the tape of one solve, the
// last training forward's; a backward whose tag is not that forward's (the block used twice in one
// graph, backpropagated in reverse order) first re-runs its forward from the input x it is given
// again, so every backward is exact, at the cost of one more solve when the calls interleave.
// No tangent passes (not a TangentLayer): nothing in neuralode nests an ODE block in a flow.
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

  Index context_size(Index) const override { return kTagSlots; }
  void forward(nn::Time<Scalar> t, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
               Scalar* ctx) override;
  void backward(nn::Time<Scalar> t, ConstMatrixView<Scalar> x, const Scalar* ctx,
                ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar* theta_bar,
                Scalar* t_bar) override;

 private:
  OdeBlockOptions options_;
  nn::LayerField<Scalar> field_;
  std::unique_ptr<grad::GradientMethod<Scalar>> method_;
  Scalar times_[2];
  // The tag (a call counter; 0 = nothing to differentiate) stored bitwise in the context.
  static constexpr Index kTagSlots =
      static_cast<Index>((sizeof(std::uint64_t) + sizeof(Scalar) - 1) / sizeof(Scalar));
  // The training solve of x into the gradient method's tape; returns the solution.
  const ode::Solution<Scalar>& solve_for_training(ConstMatrixView<Scalar> x);
  bool training_ = true;
  std::uint64_t calls_ = 0;     // training forwards so far
  std::uint64_t tape_tag_ = 0;  // the call whose solve the gradient method holds (0: none)
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
