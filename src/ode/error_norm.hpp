// The error estimate of an adaptive step folded straight into its norm: the sum over components
// of (w_m err_m / (atol_m + rtol max(|y0_m|, |y1_m|)))^2 with err = sum_j coef[j] k_j (coef =
// h e_j), each chunk of err formed in registers (linear_combination.hpp) and never stored.
//
// Before (session 4), err was combined into a stack buffer and the norm read it back in a second
// function: the pair was ~25 % of a 64-component dopri5 step in perf. 1 / scale is a reciprocal
// estimate refined by Newton steps (simd.hpp) rather than a division, whose throughput (8 doubles
// per ~16 cycles) was a sixth of that step; `exact` asks for the division, for an atol small
// enough (odeint: within 1e6 of the smallest normal number) that a scale could be subnormal,
// where the estimate is not defined.
#pragma once

#include "ode/linear_combination.hpp"

namespace neuralode::ode::step_kernels {

// The components' values for the norm: atol and w per component when the flags say so (arrays
// indexed like the state), else the scalar atol0 and weight 1.
template <class Scalar>
struct NormScale {
  Scalar rtol, atol0;
  const Scalar* atol = nullptr;  // per component, or null
  const Scalar* weights = nullptr;
  bool exact = false;  // divide instead of the reciprocal estimate
};

// Adds the squared terms of pack `pack` (of P at component m0; the last has `last` lanes), whose
// error is e, to total. A function rather than a lambda so that it can be forced inline: GCC
// left the lambda out of line, called once per pack with e passed through the stack (12 % of a
// 64-component step).
template <int P, bool kAtolArray, bool kWeights, class Scalar>
[[gnu::always_inline]] inline void add_error_terms(typename simd::Pack<Scalar>::Reg& total,
                                                   typename simd::Pack<Scalar>::Reg e, int pack,
                                                   Index m0, Index last, const Scalar* y0,
                                                   const Scalar* y1, const NormScale<Scalar>& s) {
  using Pk = simd::Pack<Scalar>;
  const auto y_max = Pk::max(Pk::abs(load_pack<P>(y0 + m0, pack, last)),
                             Pk::abs(load_pack<P>(y1 + m0, pack, last)));
  const auto atol = kAtolArray ? load_pack<P>(s.atol + m0, pack, last) : Pk::set1(s.atol0);
  const auto scale = Pk::fma(Pk::set1(s.rtol), y_max, atol);
  // Dividing e itself: 1 / scale of a subnormal scale may overflow to inf, e / scale not.
  auto r = s.exact ? Pk::div(e, scale) : Pk::mul(e, Pk::reciprocal(scale));
  if constexpr (kWeights) r = Pk::mul(r, load_pack<P>(s.weights + m0, pack, last));
  // A partial pack's lanes past n hold 0 / atol, or 0 / 0 with an atol array.
  if (kAtolArray && pack == P - 1) r = Pk::keep(r, last);
  total = Pk::fma(r, r, total);
}

// The squared terms of one chunk of P packs at component m0 (the last pack with `last` lanes),
// summed lane-wise into a pack: the error packs and two partial sums stay in registers.
template <int P, bool kAtolArray, bool kWeights, class Scalar, int... p>
[[gnu::always_inline]] inline typename simd::Pack<Scalar>::Reg error_chunk(
    std::integer_sequence<int, p...> packs, const Scalar* const* rows, const Scalar* coef,
    int terms, Index m0, Index last, const Scalar* y0, const Scalar* y1,
    const NormScale<Scalar>& s) {
  using Pk = simd::Pack<Scalar>;
  typename Pk::Reg err[P] = {((void)p, Pk::zero())...};
  add_terms<P>(err, packs, rows, m0, coef, terms, last);
  typename Pk::Reg total[2] = {Pk::zero(), Pk::zero()};  // two chains of FMAs, not one
  (add_error_terms<P, kAtolArray, kWeights>(total[p % 2], err[p], p, m0, last, y0, y1, s), ...);
  return Pk::add(total[0], total[1]);
}

// Sum over m in [0, n) of the terms above; y0, y1 and the arrays are indexed from component 0,
// the rows at rows[j][m]. The flags are template parameters so that the loop holds no branch
// and no conditional load.
template <bool kAtolArray, bool kWeights, class Scalar>
Scalar error_sum_of_squares(const Scalar* const* rows, const Scalar* coef, int terms, Index n,
                            const Scalar* y0, const Scalar* y1, const NormScale<Scalar>& s) {
  using Pk = simd::Pack<Scalar>;
  typename Pk::Reg total = Pk::zero();
  for_each_chunk<Scalar>(n, [&](auto np, Index m0, Index last) {
    total = Pk::add(
        total, error_chunk<np(), kAtolArray, kWeights>(std::make_integer_sequence<int, np()>{},
                                                       rows, coef, terms, m0, last, y0, y1, s));
  });
  return Pk::sum(total);
}

}  // namespace neuralode::ode::step_kernels
