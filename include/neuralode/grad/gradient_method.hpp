// GradientMethod: how the gradient of a loss is obtained through an ODE solve. One interface, one
// class per method (Direct, Adjoint, Checkpoint, Binomial), all interchangeable:
//
//   auto method = grad::make_gradient_method<double>({.method = "adjoint"});
//   const ode::Solution<double>& sol = method->forward(field, y0, times, solve_options);
//   ... loss and dL/dy(t_i) for every output time, as a num_times x (batch*dim) matrix ...
//   grad::Gradients<double> g;
//   method->backward(dl_dys, g);       // g.y0, g.params, g.times
//   std::cout << method->stats().report();
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/grad/grad_stats.hpp"
#include "neuralode/nn/vector_field.hpp"
#include "neuralode/ode/solution.hpp"
#include "neuralode/ode/solve_options.hpp"

namespace neuralode::grad {

template <class Scalar>
struct Gradients {
  Matrix<Scalar> y0;          // dL/dy0, batch x dim
  Vector<Scalar> params;      // dL/dtheta, same layout as the field's flat parameter vector
  std::vector<Scalar> times;  // dL/dt_i per output time; empty unless GradOptions::time_gradients
};

template <class Scalar>
class GradientMethod {
 public:
  explicit GradientMethod(GradOptions options) : options_(std::move(options)) {
    options_.validate();
  }
  virtual ~GradientMethod() = default;
  GradientMethod(const GradientMethod&) = delete;
  GradientMethod& operator=(const GradientMethod&) = delete;

  const std::string& name() const { return options_.method; }
  const GradOptions& options() const { return options_; }

  // Solves from y0 (batch x dim) over the output times and keeps what backward() needs. The field
  // must outlive the backward pass and keep its parameters unchanged until then. Same input
  // checks and exceptions as ode::odeint.
  const ode::Solution<Scalar>& forward(nn::VectorField<Scalar>& field, ConstMatrixView<Scalar> y0,
                                       std::span<const Scalar> times,
                                       const ode::SolveOptions& options);

  // Given dL/dy(t_i) for every output time (num_times x batch*dim, row i for times[i]; rows of
  // outputs the loss ignores are zero), fills dL/dy0, dL/dtheta (overwritten, not accumulated) and,
  // if asked, dL/dt_i. Throws InvalidArgument on a shape mismatch or when forward() did not run.
  void backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out);

  const GradStats& stats() const { return stats_; }
  const ode::Solution<Scalar>& solution() const { return solution_; }

 protected:
  // The method's own work; the base class validates, times, and fills stats' common fields.
  virtual void do_forward(ConstMatrixView<Scalar> y0) = 0;
  virtual void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) = 0;

  GradOptions options_;
  nn::VectorField<Scalar>* field_ = nullptr;
  std::vector<Scalar> times_;
  ode::SolveOptions solve_options_;
  ode::Solution<Scalar> solution_;
  GradStats stats_;
  bool have_forward_ = false;
};

// The registered gradient methods.
template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_gradient_method(const GradOptions& options);
std::string gradient_method_names();  // "direct, adjoint, checkpoint, binomial"

// One registry row as code outside the registry may read it (tests iterate these, so a new
// method is tested without new test code).
struct GradientMethodInfo {
  std::string_view name;  // the word users type (GradOptions::method)
  // true: the exact gradient of the discrete solve (discretise-then-optimise; equals direct's to
  // rounding); false: a continuous adjoint, which agrees with it to the solve tolerances.
  bool discrete = false;
  std::string_view summary;  // one line: what it keeps and what it costs
};
// Every registered method, in registry order (the order of gradient_method_names()).
std::span<const GradientMethodInfo> all_gradient_methods();

extern template class GradientMethod<float>;
extern template class GradientMethod<double>;

}  // namespace neuralode::grad
