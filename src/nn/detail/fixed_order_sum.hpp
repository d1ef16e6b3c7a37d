// Sums whose rounding depends only on the values, not on where they sit in memory. Eigen's
// vectorised reductions on a Map start with scalar steps up to the first aligned element, so the
// association of the sum -- and the last bits of a float result -- changed with heap addresses:
// two runs of the same training (or one run resumed) drifted apart after an adaptive solve
// amplified those bits into different step sizes. These sum 16 lanes by index (element i goes to
// lane i mod 16, which the compiler vectorises with unaligned loads), then fold the lanes in a
// fixed order.
#pragma once

#include "neuralode/types.hpp"

namespace neuralode::nn::detail {

// sum_i term(i) for i in [0, n), in the fixed order described above.
template <class Scalar, class Term>
inline Scalar fixed_order_sum(Index n, Term term) {
  constexpr Index kLanes = 16;
  Scalar lane[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (Index j = 0; j < kLanes; ++j) lane[j] += term(i + j);
  for (Index j = 0; i + j < n; ++j) lane[j] += term(i + j);
  Scalar s = 0;
  for (Index j = 0; j < kLanes; ++j) s += lane[j];
  return s;
}

template <class Scalar>
inline Scalar fixed_order_sum(const Scalar* a, Index n) {
  return fixed_order_sum<Scalar>(n, [a](Index i) { return a[i]; });
}

template <class Scalar>
inline Scalar fixed_order_dot(const Scalar* a, const Scalar* b, Index n) {
  return fixed_order_sum<Scalar>(n, [a, b](Index i) { return a[i] * b[i]; });
}

}  // namespace neuralode::nn::detail
