// Sums whose rounding depends only on the values, not on where they sit in memory. Eigen's
// vectorised reductions on a Map start with scalar steps up to the first aligned element, so the
// association of the sum -- and the last bits of a float result -- changed with heap addresses:
// two runs of the same training (or one run resumed) drifted apart after an adaptive solve
// amplified those bits into different step sizes. These sum 16 lanes by index (element i < 16 k
// goes to lane i mod 16), fold the lanes in a fixed order, then add the remaining elements' sum.
#pragma once

#include "neuralode/types.hpp"

namespace neuralode::nn::detail {

// The lanes are a fixed-size Eigen array, which Eigen evaluates with SIMD packets. The
// equivalent plain loop over a local array (lane[j] += a[i + j] * b[i + j]) was left scalar by
// GCC 12, and its 16 lanes were folded by a serial chain of adds: together ~3x the time of the
// spiral field's Linear(50, 2) (perf). The fold is a fixed tree. The last n mod 16 elements
// go into a separate scalar sum: adding them into the lane array element by element forced it
// out of registers (a store, then a wide reload that store forwarding cannot serve).
template <class Scalar>
using SumLanes = Eigen::Array<Scalar, 16, 1>;

template <class Scalar>
inline Scalar fold_lanes(const SumLanes<Scalar>& l) {
  const Eigen::Array<Scalar, 8, 1> h8 = l.template head<8>() + l.template tail<8>();
  const Eigen::Array<Scalar, 4, 1> h4 = h8.template head<4>() + h8.template tail<4>();
  return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

template <class Scalar>
inline Scalar fixed_order_sum(const Scalar* a, Index n) {
  SumLanes<Scalar> lane = SumLanes<Scalar>::Zero();
  Index i = 0;
  for (; i + 16 <= n; i += 16) lane += Eigen::Map<const SumLanes<Scalar>>(a + i);
  Scalar tail = 0;
  for (; i < n; ++i) tail += a[i];
  return fold_lanes(lane) + tail;
}

template <class Scalar>
inline Scalar fixed_order_dot(const Scalar* a, const Scalar* b, Index n) {
  SumLanes<Scalar> lane = SumLanes<Scalar>::Zero();
  Index i = 0;
  for (; i + 16 <= n; i += 16)
    lane += Eigen::Map<const SumLanes<Scalar>>(a + i) * Eigen::Map<const SumLanes<Scalar>>(b + i);
  Scalar tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return fold_lanes(lane) + tail;
}

}  // namespace neuralode::nn::detail
