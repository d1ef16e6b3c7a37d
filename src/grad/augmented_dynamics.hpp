// The backward systems of the continuous adjoint method (Chen et al. 2018; the reference text's
// "augmented backward system"), as ode::Systems so that the ordinary solver integrates them.
#pragma once

#include <algorithm>
#include <functional>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/grad/grad_stats.hpp"
#include "neuralode/nn/vector_field.hpp"
#include "neuralode/ode/odeint.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/system.hpp"

namespace neuralode::grad::detail {

// d/dt [x, a, g] = [f(t, x), -a^T df/dx, -a^T df/dtheta] on one flat row of length 2n + P, where
// n = batch*dim of the field's state and P its parameter count. With `x_of_t` set, x is not part
// of the state but read from an interpolant (the checkpointed variant): the state is [a, g].
template <class Scalar>
class AugmentedDynamics final : public ode::System<Scalar> {
 public:
  using Interpolant = std::function<const Scalar*(Scalar t)>;

  AugmentedDynamics(nn::VectorField<Scalar>& field, Index batch, Index dim, Interpolant x_of_t = {})
      : field_(field),
        batch_(batch),
        dim_(dim),
        n_(batch * dim),
        p_(field.num_params()),
        x_of_t_(std::move(x_of_t)),
        x_bar_(batch, dim) {}

  Index state_size() const { return (x_of_t_ ? 1 : 2) * n_ + p_; }
  std::int64_t num_vjp = 0;

  void rhs(Scalar t, ConstMatrixView<Scalar> z, MatrixView<Scalar> dz) override {
    const bool carries_x = !x_of_t_;
    const Scalar* x = carries_x ? z.data() : x_of_t_(t);
    const Scalar* a = z.data() + (carries_x ? n_ : 0);
    Scalar* dx = carries_x ? dz.data() : nullptr;
    Scalar* da = dz.data() + (carries_x ? n_ : 0);
    Scalar* dg = da + n_;
    std::fill(dg, dg + p_, Scalar(0));
    field_.vjp(t, ConstMatrixView<Scalar>(x, batch_, dim_),
               ConstMatrixView<Scalar>(a, batch_, dim_), dx,
               MatrixView<Scalar>(x_bar_.data(), batch_, dim_), dg, nullptr);
    ++num_vjp;
    const Scalar* xb = x_bar_.data();
    for (Index m = 0; m < n_; ++m) da[m] = -xb[m];
    for (Index m = 0; m < p_; ++m) dg[m] = -dg[m];
  }

 private:
  nn::VectorField<Scalar>& field_;
  Index batch_, dim_, n_, p_;
  Interpolant x_of_t_;
  Matrix<Scalar> x_bar_;
};

// Solves the backward system from t_from to t_to, z (one row) in place, with the caller's
// workspace and solution reused across intervals; adds the solve's step counts to stats.
template <class Scalar>
void solve_interval(ode::System<Scalar>& dyn, Matrix<Scalar>& z, Scalar t_from, Scalar t_to,
                    const ode::SolveOptions& options, ode::SolverWorkspace<Scalar>& ws,
                    ode::Solution<Scalar>& sol, GradStats& stats) {
  const Scalar interval[2] = {t_from, t_to};
  const Index N = z.size();
  ode::odeint<Scalar>(dyn, ConstMatrixView<Scalar>(z.data(), 1, N),
                      std::span<const Scalar>(interval, 2), options, ws, sol);
  std::copy(sol.ys.data() + N, sol.ys.data() + 2 * N, z.data());
  stats.backward_accepted += sol.stats.num_accepted;
  stats.backward_rejected += sol.stats.num_rejected;
}

// Backward-solve options from the forward ones and GradOptions (torchdiffeq's rules: the same
// method and tolerances unless given), with the seminorm as a 0/1 weight vector over the state.
inline ode::SolveOptions backward_options(const ode::SolveOptions& forward, const GradOptions& g,
                                          Index norm_components, Index state_size) {
  ode::SolveOptions b = forward;
  if (!g.adjoint_method.empty()) b.method = g.adjoint_method;
  if (g.adjoint_rtol > 0) b.rtol = g.adjoint_rtol;
  if (g.adjoint_atol > 0) b.atol = g.adjoint_atol;
  b.first_step = 0;
  b.grid.clear();
  b.atol_per_component.clear();
  b.norm_weights.clear();
  if (g.adjoint_norm == AdjointNorm::seminorm) {
    b.norm_weights.assign(static_cast<std::size_t>(state_size), 0.0);
    std::fill(b.norm_weights.begin(), b.norm_weights.begin() + norm_components, 1.0);
  }
  return b;
}

}  // namespace neuralode::grad::detail
