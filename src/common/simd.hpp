// One SIMD register's worth of Scalars (a Pack) and the handful of operations the thin products,
// element-wise activations (nn) and the solver's stage combinations (ode) need, with *partial*
// loads and stores for the last m < width lanes of a row. Loops over a row of any length then end
// with one masked operation instead of a scalar epilogue: for the spiral's 50-wide rows the
// epilogues (and Eigen's scalar head and tail on unaligned Maps) took 10-15 % of the field's time
// in perf.
//
// With AVX-512 a Pack is one zmm register and partial accesses are masked instructions. Elsewhere
// it is a fixed-size Eigen array of the same width (Eigen vectorises it with what the target has)
// and partial accesses copy through it; results are the same up to the order of the final
// horizontal sum.
#pragma once

#include <Eigen/Core>
#include <algorithm>

#include "neuralode/types.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace neuralode::simd {

template <class Scalar>
struct Pack;

#if defined(__AVX512F__)

// Intrinsics whose GCC 12 definition starts its result from _mm512_undefined_* (max, rcp14,
// shuffles, permutes, the horizontal sums) are used in their zero-masking form with every lane
// kept: the same instruction, without a false "used uninitialized" warning in every file that
// inlines them.

template <>
struct Pack<float> {
  static constexpr Index width = 16;
  using Reg = __m512;
  static __mmask16 mask(Index m) { return static_cast<__mmask16>((1u << m) - 1u); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(float v) { return _mm512_set1_ps(v); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  // Lanes >= m read as zero and touch no memory.
  static Reg load(const float* p, Index m) { return _mm512_maskz_loadu_ps(mask(m), p); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Reg v, Index m) { _mm512_mask_storeu_ps(p, mask(m), v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }  // a b + c
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg abs(Reg a) { return _mm512_abs_ps(a); }
  static Reg max(Reg a, Reg b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  // 1 / a for normal a: the 14-bit estimate and one Newton step (relative error ~2^-28 before
  // rounding), at a quarter of a division's throughput cost.
  static Reg reciprocal(Reg a) {
    const Reg x = _mm512_maskz_rcp14_ps(0xFFFF, a);
    return _mm512_mul_ps(x, _mm512_fnmadd_ps(a, x, _mm512_set1_ps(2.0f)));
  }
  static Reg keep(Reg a, Index m) { return _mm512_maskz_mov_ps(mask(m), a); }  // lanes >= m: 0
  // The tree of _mm512_reduce_add_ps (halves, quarters, pairs of pairs, pairs), so the same
  // sums to the bit, written out because that intrinsic starts from _mm256_undefined_ps (see
  // above).
  static float sum(Reg v) {
    constexpr __mmask16 all = 0xFFFF;
    Reg a = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(all, v, v, 0x4E));  // other 256-bit half
    a = _mm512_add_ps(a, _mm512_maskz_shuffle_f32x4(all, a, a, 0xB1));      // other quarter
    a = _mm512_add_ps(a, _mm512_maskz_permute_ps(all, a, 0x4E));            // other pair
    a = _mm512_add_ps(a, _mm512_maskz_permute_ps(all, a, 0xB1));            // other lane
    return _mm512_cvtss_f32(a);
  }
  static Reg tanh(Reg v) { return Eigen::internal::ptanh(v); }  // Eigen's rational interpolant
};

// Lane i of the result is the sum of the 16 lanes of v[i]: four levels of shuffles and whole-
// register adds (15 adds in all) and one permutation, where 16 separate horizontal sums cost ~8
// operations each. The tree is fixed, so each sum's order is too.
inline __m512 sum_each(const __m512 (&v)[16]) {
  __m512 x[8], y[4], z[2];
  for (int i = 0; i < 8; ++i)  // x[i] = [v[2i] halves summed (8) | v[2i+1] halves summed (8)]
    x[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  for (int i = 0; i < 4; ++i)  // y[i] = 4 partial sums each of v[4i .. 4i+3]
    y[i] = _mm512_add_ps(_mm512_shuffle_f32x4(x[2 * i], x[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(x[2 * i], x[2 * i + 1], 0xDD));
  for (int i = 0; i < 2; ++i)  // within each 128-bit quarter: 2 partial sums of 2 vectors each
    z[i] = _mm512_add_ps(_mm512_shuffle_ps(y[2 * i], y[2 * i + 1], 0x88),
                         _mm512_shuffle_ps(y[2 * i], y[2 * i + 1], 0xDD));
  // w: the sum of v[j] sits in lane 4 (j mod 4) + j / 4.
  const __m512 w =
      _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(order, w);
}

template <>
struct Pack<double> {
  static constexpr Index width = 8;
  using Reg = __m512d;
  static __mmask8 mask(Index m) { return static_cast<__mmask8>((1u << m) - 1u); }
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg set1(double v) { return _mm512_set1_pd(v); }
  static Reg load(const double* p) { return _mm512_loadu_pd(p); }
  static Reg load(const double* p, Index m) { return _mm512_maskz_loadu_pd(mask(m), p); }
  static void store(double* p, Reg v) { _mm512_storeu_pd(p, v); }
  static void store(double* p, Reg v, Index m) { _mm512_mask_storeu_pd(p, mask(m), v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_pd(a, b); }
  static Reg abs(Reg a) { return _mm512_abs_pd(a); }
  static Reg max(Reg a, Reg b) { return _mm512_maskz_max_pd(0xFF, a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_pd(a, b); }
  // Two Newton steps: relative error ~2^-56 before rounding.
  static Reg reciprocal(Reg a) {
    const Reg two = _mm512_set1_pd(2.0);
    Reg x = _mm512_maskz_rcp14_pd(0xFF, a);
    x = _mm512_mul_pd(x, _mm512_fnmadd_pd(a, x, two));
    return _mm512_mul_pd(x, _mm512_fnmadd_pd(a, x, two));
  }
  static Reg keep(Reg a, Index m) { return _mm512_maskz_mov_pd(mask(m), a); }
  static double sum(Reg v) {  // _mm512_reduce_add_pd's tree, as for float
    constexpr __mmask8 all = 0xFF;
    Reg a = _mm512_add_pd(v, _mm512_maskz_shuffle_f64x2(all, v, v, 0x4E));
    a = _mm512_add_pd(a, _mm512_maskz_shuffle_f64x2(all, a, a, 0xB1));
    a = _mm512_add_pd(a, _mm512_maskz_permute_pd(all, a, 0x55));
    return _mm512_cvtsd_f64(a);
  }
};

#else

template <class Scalar>
struct Pack {
  static constexpr Index width = 64 / static_cast<Index>(sizeof(Scalar));
  using Reg = Eigen::Array<Scalar, width, 1>;
  static Reg zero() { return Reg::Zero(); }
  static Reg set1(Scalar v) { return Reg::Constant(v); }
  static Reg load(const Scalar* p) { return Eigen::Map<const Reg>(p); }
  static Reg load(const Scalar* p, Index m) {
    Reg r = Reg::Zero();
    std::copy(p, p + m, r.data());
    return r;
  }
  static void store(Scalar* p, const Reg& v) { Eigen::Map<Reg>{p} = v; }
  static void store(Scalar* p, const Reg& v, Index m) { std::copy(v.data(), v.data() + m, p); }
  static Reg fma(const Reg& a, const Reg& b, const Reg& c) { return a * b + c; }
  static Reg add(const Reg& a, const Reg& b) { return a + b; }
  static Reg mul(const Reg& a, const Reg& b) { return a * b; }
  static Reg sub(const Reg& a, const Reg& b) { return a - b; }
  static Reg abs(const Reg& a) { return a.abs(); }
  static Reg max(const Reg& a, const Reg& b) { return a.max(b); }
  static Reg div(const Reg& a, const Reg& b) { return a / b; }
  static Reg reciprocal(const Reg& a) { return a.inverse(); }
  static Reg keep(const Reg& a, Index m) {
    Reg r = Reg::Zero();
    std::copy(a.data(), a.data() + m, r.data());
    return r;
  }
  static Scalar sum(const Reg& v) { return v.sum(); }
  static Reg tanh(const Reg& v) { return v.tanh(); }
};

#endif

}  // namespace neuralode::simd
