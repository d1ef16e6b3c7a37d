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

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solver_workspace.hpp"
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

namespace neuralode::ode::detail {

// The error norm of one solve: the weighted RMS over the batch*dim components of y plus the Q
// components of a quadrature, as SolveOptions describes it. Set up once per solve (per-component
// vectors expanded into the workspace); used by a stepper for its error estimate and by the
// starting-step heuristic. Holds pointers into the workspace and the caller's q.
template <class Scalar>
class ErrorNorm {
 public:
  ErrorNorm(const SolveOptions& options, SolverWorkspace<Scalar>& ws, std::span<Scalar> q)
      : opt_(options),
        n_(ws.size()),
        nq_(static_cast<Index>(q.size())),
        q_(q.data()),
        qw_(static_cast<Scalar>(options.quadrature_norm_weight)),
        inv_count_(Scalar(1) / static_cast<Scalar>(n_ + nq_)) {
    // Per-component vectors are expanded to batch*dim once per solve, and only when given: the
    // adjoint's state holds every parameter, where two more state-sized buffers would cost
    // hundreds of MiB.
    const Index dim = ws.dim();
    auto expand = [&](const std::vector<double>& v, Vector<Scalar>& to) {
      to.resize(v.empty() ? 0 : n_);
      for (Index i = 0; i < static_cast<Index>(to.size()); ++i)
        to[i] = static_cast<Scalar>(static_cast<Index>(v.size()) == n_ ? v[i] : v[i % dim]);
    };
    expand(options.atol_per_component, ws.atol);
    expand(options.norm_weights, ws.weights);
    norm_.rtol = static_cast<Scalar>(options.rtol);
    norm_.atol0 = static_cast<Scalar>(options.atol);
    norm_.atol = ws.atol.size() ? ws.atol.data() : nullptr;
    norm_.weights = ws.weights.size() ? ws.weights.data() : nullptr;
    // The reciprocal estimate needs a normal scale >= atol: divide when an atol is within 1e6 of
    // the smallest normal number (such an atol asks for more than the precision holds anyway).
    const Scalar min_atol = norm_.atol ? ws.atol.minCoeff() : norm_.atol0;
    norm_.exact = min_atol < Scalar(1e6) * std::numeric_limits<Scalar>::min();
  }

  // sqrt(sum_i (w_i num_i / (atol_i + rtol max(|a_i|, |b_i|)))^2 / (n + Q)) over all n = batch*dim
  // components plus the Q quadrature components, whose terms the caller sums (quadrature_sum). A
  // zero weight removes a component's contribution but not its share of the mean, as diffrax's
  // adjoint_rms_seminorm does: masking can only lower the norm, never raise it.
  Scalar weighted_rms(const Scalar* num, const Scalar* y_a, const Scalar* y_b,
                      Scalar quadrature_sum) const {
    const Scalar* rows[1] = {num};
    const Scalar one[1] = {Scalar(1)};  // num as a combination of one term: 1 * num is exact
    return std::sqrt((sum_of_squares(rows, one, 1, y_a, y_b) + quadrature_sum) * inv_count_);
  }

  // sum_m (w_m x_m / (atol_m + rtol max(|y_a,m|, |y_b,m|)))^2 over the n components of
  // x = sum_j coef[j] rows[j] (error_sum_of_squares above).
  Scalar sum_of_squares(const Scalar* const* rows, const Scalar* coef, int count, const Scalar* y_a,
                        const Scalar* y_b) const {
    using step_kernels::error_sum_of_squares;
    if (norm_.atol && norm_.weights)
      return error_sum_of_squares<true, true>(rows, coef, count, n_, y_a, y_b, norm_);
    if (norm_.atol)
      return error_sum_of_squares<true, false>(rows, coef, count, n_, y_a, y_b, norm_);
    if (norm_.weights)
      return error_sum_of_squares<false, true>(rows, coef, count, n_, y_a, y_b, norm_);
    return error_sum_of_squares<false, false>(rows, coef, count, n_, y_a, y_b, norm_);
  }

  // The quadrature's terms of the norm: sum_m (w_q num(m) / (atol + rtol max(|q_m|, |q_b(m)|)))^2
  // with the one weight w_q = quadrature_norm_weight. w_q = 0 (the seminorm) skips the pass: its
  // terms are zero, though they still count in weighted_rms's divisor.
  template <class Num, class Qb>
  Scalar quadrature_sum_of_squares(Num num, Qb q_b, Scalar rtol) const {
    if (nq_ == 0 || qw_ == Scalar(0)) return 0;
    const Scalar atol = static_cast<Scalar>(opt_.atol);
    Scalar sum = 0;
    for (Index m = 0; m < nq_; ++m) {
      const Scalar r = qw_ * num(m) / (atol + rtol * std::max(std::abs(q_[m]), std::abs(q_b(m))));
      sum += r * r;
    }
    return sum;
  }

  // 1 / (n + Q), the mean's divisor.
  Scalar inv_count() const { return inv_count_; }

 private:
  const SolveOptions& opt_;
  const Index n_, nq_;
  const Scalar* const q_;
  const Scalar qw_;
  const Scalar inv_count_;
  step_kernels::NormScale<Scalar> norm_{};
};

}  // namespace neuralode::ode::detail
