// The one dense-output kernel: the state inside an accepted step from the step's start, its stage
// derivatives and the weights ButcherTableau::dense_weights gives for the fraction theta. The
// solver's output interpolation and every gradient method that reads the interpolant (checkpoint's
// x(t) in the backward pass; the discrete methods' reverse pass through outputs, transposed) call
// these two functions, so the interpolant a gradient is taken of is the one the solver returned.
//
// The form shared by every method (ButcherTableau::dense_weights):
//   y(t + theta h) = y0 + h (sum_{i<s} w_i k_i + w_s f(t + h, y1)),
// w_s nonzero only for Hermite output of a method that is not FSAL.
#pragma once

#include <algorithm>

#include "neuralode/types.hpp"

namespace neuralode::ode::detail {

// Whether the weights need f(t + h, y1), the end-point derivative (row s): callers that must
// evaluate it first (the solver does so lazily, once per step) ask before calling dense_output.
inline bool dense_output_needs_end(const double* w, Index stages) {
  return w[stages] != 0.0;
}

// out = y0 + sum_{i<=s} (h w_i) row(i) over n components, where row(i) returns stage i's
// derivative k_i for i < s and f(t + h, y1) for i = s (asked for only when w_s != 0). Terms with
// h w_i == 0 are skipped (not added as zeros), and each is added in stage order, so the result is
// the same wherever the rows are stored. out must not alias y0 or a row. Allocates nothing.
template <class Scalar, class StageRow>
void dense_output(const double* w, Index stages, Scalar h, const Scalar* y0, StageRow&& row,
                  Scalar* out, Index n) {
  std::copy(y0, y0 + n, out);
  for (Index i = 0; i <= stages; ++i) {
    const Scalar hw = h * static_cast<Scalar>(w[i]);
    if (hw == Scalar(0)) continue;
    const Scalar* ki = row(i);
    for (Index m = 0; m < n; ++m) out[m] += hw * ki[m];
  }
}

// The transpose for the stage rows: row(i) += (h w_i) adjoint for i in [0, stages) with
// h w_i != 0, calling live(i) for each row it touched (the caller's mark that the row's adjoint
// is nonzero). The end-point row is the caller's: its adjoint must be propagated through
// f(t + h, y1) before the stage adjoints are formed (grad/step_reverser.hpp). Allocates nothing.
template <class Scalar, class StageRow, class Live>
void dense_output_transpose(const double* w, Index stages, Scalar h, const Scalar* adjoint,
                            StageRow&& row, Live&& live, Index n) {
  for (Index i = 0; i < stages; ++i) {
    const Scalar hw = h * static_cast<Scalar>(w[i]);
    if (hw == Scalar(0)) continue;
    Scalar* ri = row(i);
    for (Index m = 0; m < n; ++m) ri[m] += hw * adjoint[m];
    live(i);
  }
}

}  // namespace neuralode::ode::detail
