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
  SolverWorkspace(const ButcherTableau& tableau, Index batch, Index dim) {
    resize(tableau, batch, dim);
  }

  // Sizes the buffers for this method and shape; allocates only when something changed.
  void resize(const ButcherTableau& tableau, Index batch, Index dim);

  const ButcherTableau* tableau() const { return tableau_; }
  Index batch() const { return batch_; }
  Index dim() const { return dim_; }
  Index size() const { return batch_ * dim_; }
  // Bytes held by the buffers (reported by gradient methods that own a workspace).
  std::size_t bytes() const;

  // The buffers, public for the solver's implementation (src/ode); users only construct and pass.
  std::vector<Scalar> c, a, b, e, dense;  // tableau cast to Scalar; e = b - bhat
  Matrix<Scalar> k;                       // s x n stage derivatives
  Matrix<Scalar> stage;                   // s x n stage inputs
  Vector<Scalar> y, y_new, err, f_end, atol, weights;
  std::vector<double> w;  // dense weights, s + 1

 private:
  const ButcherTableau* tableau_ = nullptr;
  Index batch_ = -1, dim_ = -1;
};

}  // namespace neuralode::ode
