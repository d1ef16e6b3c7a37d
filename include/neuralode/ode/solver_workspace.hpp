// SolverWorkspace: every buffer a solve needs, sized once per (method, batch, dim) and reused
// across solves, so that the step loop never allocates.
#pragma once

#include <vector>

#include "neuralode/ode/butcher_tableau.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode {

template <class Scalar>
class SolverWorkspace {
 public:
  SolverWorkspace() = default;
  SolverWorkspace(const ButcherTableau& tableau, Index batch, Index dim,
                  bool keep_stage_inputs = false) {
    resize(tableau, batch, dim, keep_stage_inputs);
  }

  // Sizes the buffers for this method and shape; allocates only when something changed.
  // keep_stage_inputs: hold all s stage inputs (what a StepObserver is shown) instead of one
  // reused row. Buffers that only some solves use (per-component tolerances or weights, the end
  // derivative of Hermite output) are sized by the solve that needs them.
  void resize(const ButcherTableau& tableau, Index batch, Index dim,
              bool keep_stage_inputs = false);

  // Sizes the quadrature buffers (System::quadrature_size() = q > 0) for a solve: dq always;
  // dq1 and acc_b for an adaptive solve (a rejected step restarts from the first stage's dq);
  // acc_e when q also enters the error norm. Buffers the solve does not need keep their size if
  // it is q (so alternating solves do not reallocate) and are freed otherwise. Called by odeint.
  void resize_quadrature(Index q, bool adaptive, bool error_in_norm);

  const ButcherTableau* tableau() const { return tableau_; }
  Index batch() const { return batch_; }
  Index dim() const { return dim_; }
  Index size() const { return batch_ * dim_; }
  // Bytes held by the buffers (reported by gradient methods that own a workspace).
  std::size_t bytes() const;

  // The buffers, public for the solver's implementation (src/ode); users only construct and pass.
  std::vector<Scalar> c, a, b, e, dense;  // tableau cast to Scalar; e = b - bhat
  Matrix<Scalar> k;                       // s x n stage derivatives
  Matrix<Scalar> stage;                   // s x n stage inputs, or 1 x n when not kept
  Vector<Scalar> y, y_new;                // the state at the step's start and end
  Vector<Scalar> f_end;                   // f(t + h, y_new) for Hermite output (sized when needed)
  Vector<Scalar> atol, weights;           // per-component values (sized only when given)
  std::vector<double> w;                  // dense weights, s + 1
  // Quadrature (Q values each; empty without one): the stage derivative being accumulated, the
  // first stage's (kept for a retry after a rejection, and the FSAL carry-over), and the sums
  // sum_i b_i dq_i and sum_i e_i dq_i of the step being attempted. q itself is the caller's.
  Vector<Scalar> dq, dq1, acc_b, acc_e;

 private:
  const ButcherTableau* tableau_ = nullptr;
  Index batch_ = -1, dim_ = -1;
  bool keep_stage_inputs_ = false;
};

}  // namespace neuralode::ode
