// Solution: the states at the requested output times, and the statistics of the solve.
#pragma once

#include <vector>

#include "neuralode/ode/solve_stats.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode {

template <class Scalar>
struct Solution {
  std::vector<Scalar> times;  // the output times as requested; times[0] is the initial time
  Matrix<Scalar> ys;          // num_times x (batch*dim): row i is the whole batch at times[i]
  Index batch = 0;
  Index dim = 0;
  SolveStats stats;

  Index num_times() const { return ys.rows(); }
  // The batch at output i, as a batch x dim view into ys.
  ConstMatrixView<Scalar> state(Index i) const {
    return ConstMatrixView<Scalar>(ys.data() + i * batch * dim, batch, dim);
  }
  // Writable view of output i (for code that post-processes a solution in place).
  MatrixView<Scalar> mutable_state(Index i) {
    return MatrixView<Scalar>(ys.data() + i * batch * dim, batch, dim);
  }
};

}  // namespace neuralode::ode
