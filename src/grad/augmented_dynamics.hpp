// The backward systems of the continuous adjoint method (Chen et al. 2018; the reference text's
// "augmented backward system"), as ode::Systems so that the ordinary solver integrates them.
#pragma once

#include <algorithm>
#include <functional>
#include <span>
#include <vector>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/grad/grad_stats.hpp"
#include "neuralode/nn/vector_field.hpp"
#include "neuralode/ode/odeint.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/system.hpp"

namespace neuralode::grad::detail {

// d/dt [x, a] = [f(t, x), -a^T df/dx] on one flat row of length 2n (n = batch*dim of the field's
// state), with the parameter gradient g (P = the field's parameter count) as the system's
// quadrature: dg/dt = -a^T df/dtheta. g never feeds back into x or a, so the solver integrates it
// as a quadrature (ode::System; CVODES's quadrature variables) with a few P-sized buffers instead
// of carrying it through every stage row and state copy (issue 4: when g was part of the state,
// the backward solve kept about 7 P-sized buffers). With `x_of_t` set, x is not part of the state
// but read from an interpolant (the checkpointed variant): the state is [a].
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
        minus_a_(batch, dim) {}

  Index state_size() const { return (x_of_t_ ? 1 : 2) * n_; }
  Index quadrature_size() const override { return p_; }
  std::int64_t num_vjp = 0;

  // [dx, da] alone: the same VJP without the parameter product.
  void rhs(Scalar t, ConstMatrixView<Scalar> z, MatrixView<Scalar> dz) override {
    evaluate(t, z, dz, nullptr);
  }
  // [dx, da] and dg = -a^T df/dtheta, from the one VJP.
  void rhs_with_quadrature(Scalar t, ConstMatrixView<Scalar> z, MatrixView<Scalar> dz,
                           std::span<Scalar> dg) override {
    std::fill(dg.begin(), dg.end(), Scalar(0));  // the VJP adds into it
    evaluate(t, z, dz, dg.data());
  }

 private:
  // The VJP is linear in its cotangent, so running it on -a gives -a^T df/dx and -a^T df/dtheta
  // directly (negation is exact in floating point): no x_bar buffer and no pass negating dg.
  void evaluate(Scalar t, ConstMatrixView<Scalar> z, MatrixView<Scalar> dz, Scalar* dg) {
    const bool carries_x = !x_of_t_;
    const Scalar* x = carries_x ? z.data() : x_of_t_(t);
    const Scalar* a = z.data() + (carries_x ? n_ : 0);
    Scalar* dx = carries_x ? dz.data() : nullptr;
    Scalar* da = dz.data() + (carries_x ? n_ : 0);
    Scalar* ma = minus_a_.data();
    for (Index m = 0; m < n_; ++m) ma[m] = -a[m];
    field_.vjp(t, ConstMatrixView<Scalar>(x, batch_, dim_),
               ConstMatrixView<Scalar>(ma, batch_, dim_), dx, MatrixView<Scalar>(da, batch_, dim_),
               dg, nullptr);
    ++num_vjp;
  }

  nn::VectorField<Scalar>& field_;
  Index batch_, dim_, n_, p_;
  Interpolant x_of_t_;
  Matrix<Scalar> minus_a_;
};

// Solves the backward system from t_from to t_to, z (one row) and the quadrature g in place, with
// the caller's workspace and solution reused across intervals; adds the solve's step counts to
// stats.
template <class Scalar>
void solve_interval(ode::System<Scalar>& dyn, Matrix<Scalar>& z, std::span<Scalar> g, Scalar t_from,
                    Scalar t_to, const ode::SolveOptions& options, ode::SolverWorkspace<Scalar>& ws,
                    ode::Solution<Scalar>& sol, GradStats& stats) {
  const Scalar interval[2] = {t_from, t_to};
  const Index N = z.size();
  ode::odeint<Scalar>(dyn, ConstMatrixView<Scalar>(z.data(), 1, N), g,
                      std::span<const Scalar>(interval, 2), options, ws, sol);
  std::copy(sol.ys.data() + N, sol.ys.data() + 2 * N, z.data());
  stats.backward_accepted += sol.stats.num_accepted;
  stats.backward_rejected += sol.stats.num_rejected;
}

// The backward solve's grid for the interval from t_from back to t_to when the forward solve
// stepped on a user grid (SolveOptions::grid): the forward grid's points strictly between the two,
// in the backward direction, framed by t_from and t_to; empty when the forward had no grid. Without
// it the backward solve of a fixed-step method would take one step per output interval, whatever
// grid the forward used (as torchdiffeq's adjoint reuses the forward's grid options, so does this).
//
// The comparison is in Scalar: a grid point that rounds to t_from or t_to (the float times the
// interval ends come as) is not "between", or it would add a sliver step of ~1e-8.
template <class Scalar>
void backward_grid(const std::vector<double>& forward_grid, Scalar t_from, Scalar t_to,
                   std::vector<double>& out) {
  out.clear();
  if (forward_grid.empty()) return;
  out.push_back(static_cast<double>(t_from));
  const Scalar lo = std::min(t_from, t_to), hi = std::max(t_from, t_to);
  // The forward grid runs from t_to's side to t_from's; walk it from its end.
  for (auto it = forward_grid.rbegin(); it != forward_grid.rend(); ++it) {
    const Scalar g = static_cast<Scalar>(*it);
    if (g > lo && g < hi) out.push_back(*it);
  }
  out.push_back(static_cast<double>(t_to));
}

// Backward-solve options from the forward ones and GradOptions (torchdiffeq's rules: the same
// method and tolerances unless given). The state [x, a] (or [a]) is always in the error norm; the
// seminorm (Kidger, Chen & Lyons 2021) leaves the quadrature g out, though g still counts in the
// RMS divisor, so the norm is exactly the one a 0/1 weight vector over [x, a, g] gave.
inline ode::SolveOptions backward_options(const ode::SolveOptions& forward, const GradOptions& g) {
  ode::SolveOptions b = forward;
  if (!g.adjoint_method.empty()) b.method = g.adjoint_method;
  if (g.adjoint_rtol > 0) b.rtol = g.adjoint_rtol;
  if (g.adjoint_atol > 0) b.atol = g.adjoint_atol;
  b.first_step = 0;
  b.grid.clear();  // set per interval by backward_grid()
  b.atol_per_component.clear();
  b.norm_weights.clear();
  b.quadrature_norm_weight = g.adjoint_norm == AdjointNorm::seminorm ? 0.0 : 1.0;
  return b;
}

}  // namespace neuralode::grad::detail
