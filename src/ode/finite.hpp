// Finiteness checks of state-sized arrays, shared by the input checks and the steppers.
#pragma once

#include <cmath>

#include "neuralode/types.hpp"

namespace neuralode::ode::detail {

// Independent partial sums per lane, so reductions vectorize (a single running sum is a serial
// chain of dependent adds: ~4 cycles per component, 40 % of a small adaptive step in perf).
constexpr Index kLanes = 8;

template <class Scalar>
Scalar sum_lanes(const Scalar (&lane)[kLanes]) {
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

template <class Scalar>
bool all_finite(const Scalar* x, Index n) {
  // A sum is finite iff no term is NaN/Inf (overflow of the sum itself is possible only for
  // states near the largest float, where the solve is lost anyway).
  Scalar lane[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (Index l = 0; l < kLanes; ++l) lane[l] += x[i + l] * Scalar(0);
  for (; i < n; ++i) lane[0] += x[i] * Scalar(0);
  return sum_lanes(lane) == Scalar(0);
}

// The first index whose value is not finite, or n.
template <class Scalar>
Index first_nonfinite(const Scalar* x, Index n) {
  for (Index i = 0; i < n; ++i)
    if (!std::isfinite(static_cast<double>(x[i]))) return i;
  return n;
}

}  // namespace neuralode::ode::detail
