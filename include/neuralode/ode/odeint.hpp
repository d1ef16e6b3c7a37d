// odeint: solve dy/dt = f(t, y) from y(times[0]) = y0 and return y at every output time.
//
//   Matrix<double> y0(1, 2); y0 << 2, 0;
//   auto sol = ode::odeint([](double t, auto y, auto dy) { dy = -y; }, y0, {0.0, 0.5, 1.0},
//                          {.method = "tsit5", .rtol = 1e-8, .atol = 1e-10});
//   std::cout << sol.state(2) << "\n" << sol.stats.report();
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "neuralode/ode/solution.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solver_workspace.hpp"
#include "neuralode/ode/step_observer.hpp"
#include "neuralode/ode/system.hpp"

namespace neuralode::ode {

// The full form. y0 is batch x dim (one step size for the whole batch; the error norm runs over
// all batch*dim components). times is strictly increasing or strictly decreasing with at least one
// entry; times[0] is the initial time and out.ys row 0 is y0. Outputs inside a step come from dense
// output, so they never shorten steps. ws and out are resized as needed and can be reused: with
// the same shapes, a solve allocates nothing. observer, when given, sees every accepted step.
// Throws InvalidArgument for bad input (before any work) and SolveError when the solve fails.
template <class Scalar>
void odeint(System<Scalar>& f, ConstMatrixView<Scalar> y0, std::span<const Scalar> times,
            const SolveOptions& options, SolverWorkspace<Scalar>& ws, Solution<Scalar>& out,
            StepObserver<Scalar>* observer = nullptr);

// With a quadrature (f.quadrature_size() = Q > 0, see System): q holds Q values, q(times[0]) on
// entry and q(times.back()) on return (unspecified if the solve throws); it is integrated with
// y's steps and stages and, per SolveOptions::quadrature_norm_weight, its error. q is only
// returned at the end, so such a solve takes at most two output times (a step grid is fine: the
// last step lands on times.back()); solve interval by interval to get q at more times, passing
// q on. ws's Q-sized buffers are sized by the first such solve (see SolverWorkspace). The form
// above is this one with an empty q, and throws InvalidArgument for a system with a quadrature.
template <class Scalar>
void odeint(System<Scalar>& f, ConstMatrixView<Scalar> y0, std::span<Scalar> q,
            std::span<const Scalar> times, const SolveOptions& options, SolverWorkspace<Scalar>& ws,
            Solution<Scalar>& out, StepObserver<Scalar>* observer = nullptr);

// Convenience: builds the workspace and the solution.
template <class Scalar>
Solution<Scalar> odeint(System<Scalar>& f, const Matrix<Scalar>& y0,
                        const std::vector<Scalar>& times, const SolveOptions& options = {}) {
  SolverWorkspace<Scalar> ws;
  Solution<Scalar> out;
  odeint(f, ConstMatrixView<Scalar>(y0.data(), y0.rows(), y0.cols()),
         std::span<const Scalar>(times), options, ws, out);
  return out;
}

// Convenience for any callable f(Scalar t, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy).
template <class Scalar, class F>
requires(!std::is_base_of_v<System<Scalar>, std::decay_t<F>>) Solution<Scalar> odeint(
    F&& f, const Matrix<Scalar>& y0, const std::vector<Scalar>& times,
    const SolveOptions& options = {}) {
  FunctionSystem<Scalar, std::decay_t<F>> system(std::forward<F>(f));
  return odeint(static_cast<System<Scalar>&>(system), y0, times, options);
}

extern template void odeint<float>(System<float>&, ConstMatrixView<float>, std::span<const float>,
                                   const SolveOptions&, SolverWorkspace<float>&, Solution<float>&,
                                   StepObserver<float>*);
extern template void odeint<double>(System<double>&, ConstMatrixView<double>,
                                    std::span<const double>, const SolveOptions&,
                                    SolverWorkspace<double>&, Solution<double>&,
                                    StepObserver<double>*);
extern template void odeint<float>(System<float>&, ConstMatrixView<float>, std::span<float>,
                                   std::span<const float>, const SolveOptions&,
                                   SolverWorkspace<float>&, Solution<float>&, StepObserver<float>*);
extern template void odeint<double>(System<double>&, ConstMatrixView<double>, std::span<double>,
                                    std::span<const double>, const SolveOptions&,
                                    SolverWorkspace<double>&, Solution<double>&,
                                    StepObserver<double>*);
extern template class SolverWorkspace<float>;
extern template class SolverWorkspace<double>;

}  // namespace neuralode::ode
