// Kernels for products where one side is thin (K <= 4 columns or rows, a compile-time constant),
// such as the spiral field's Linear(2, 50) and Linear(50, 2), forwards and in reverse. They work
// in SIMD packs along the long dimension n and end each row with one partial pack (see simd.hpp),
// so no path falls back to scalar code. The axpy and rank-update kernels take the columns in
// blocks of up to four packs whose thin operand (or accumulators) stay in registers while all m
// rows stream past once.
//
// Every sum runs in an order fixed by the shapes alone, never by memory addresses, so repeated
// runs give bit-identical results (see fixed_order_sum.hpp for why that matters).
#pragma once

#include <type_traits>

#include "common/simd.hpp"

namespace neuralode::nn::detail {

// thin_axpy_rows on the NP packs of columns starting at c0 (the last with `last` lanes): the K x NP
// packs of rows and the NP of b stay in registers while every output row is written whole, so
// each row of out is touched once (column-block-first order re-read a 512 x 50 output from L2
// once per pack: 28 % of the spiral field's forward at batch 512).
template <int K, int NP, class Scalar>
void thin_axpy_block(Index m, Index c0, Index last, const Scalar* coef, Index ldc,
                     const Scalar* rows, Index ldm, const Scalar* b, Scalar* out, Index ldo) {
  using P = simd::Pack<Scalar>;
  using Reg = typename P::Reg;
  auto lanes = [last](int p) { return p == NP - 1 ? last : P::width; };
  Reg row[K][NP], bias[NP];
  for (int p = 0; p < NP; ++p) {
    const Index c = c0 + p * P::width;
    for (int i = 0; i < K; ++i) row[i][p] = P::load(rows + i * ldm + c, lanes(p));
    bias[p] = b ? P::load(b + c, lanes(p)) : P::zero();
  }
  for (Index r = 0; r < m; ++r) {
    Reg a[K];
    for (int i = 0; i < K; ++i) a[i] = P::set1(coef[r * ldc + i]);
    Scalar* o = out + r * ldo + c0;
    for (int p = 0; p < NP; ++p) {
      Reg acc = bias[p];
      for (int i = 0; i < K; ++i) acc = P::fma(a[i], row[i][p], acc);
      if (p < NP - 1 || last == P::width) {
        P::store(o + p * P::width, acc);
      } else {
        P::store(o + p * P::width, acc, last);
      }
    }
  }
}

#if defined(__AVX512F__)
// thin_dot_rows (below) for float, K dividing 16 and out rows contiguous (ldo = K), on groups of
// 16 / K rows: their 16 dot products are accumulated side by side and folded together by
// simd::sum_each into one register, which is exactly the group's block of out. The per-row
// folds were half of thin_dot_rows' time at the spiral's Linear(50, 2). Returns the rows done.
template <int K>
Index thin_dot_row_groups(Index m, Index n, const float* v, Index ldv, const float* rows, Index ldm,
                          const float* b, float* out) {
  using P = simd::Pack<float>;
  constexpr int R = 16 / K;
  alignas(64) float bias[16];
  for (int i = 0; i < 16; ++i) bias[i] = b ? b[i % K] : 0.0f;
  const __m512 bias_reg = _mm512_load_ps(bias);
  Index r0 = 0;
  for (; r0 + R <= m; r0 += R) {
    __m512 acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = P::zero();
    for (Index c = 0; c < n; c += P::width) {
      const Index w = std::min(P::width, n - c);
      __m512 row[K];
      for (int j = 0; j < K; ++j) row[j] = P::load(rows + j * ldm + c, w);
      for (int r = 0; r < R; ++r) {
        const float* vr = v + (r0 + r) * ldv + c;
        const __m512 x = w == P::width ? P::load(vr) : P::load(vr, w);
        for (int j = 0; j < K; ++j) acc[r * K + j] = P::fma(x, row[j], acc[r * K + j]);
      }
    }
    P::store(out + r0 * K, P::add(bias_reg, simd::sum_each(acc)));
  }
  return r0;
}
#endif

// out(r, j) = (b ? b[j] : 0) + sum_{c < n} v(r, c) rows(j, c) for r < m, j < K: K dot products of
// contiguous rows per output row, each summed lane-wise and folded once at the end.
template <int K, class Scalar>
void thin_dot_rows(Index m, Index n, const Scalar* v, Index ldv, const Scalar* rows, Index ldm,
                   const Scalar* b, Scalar* out, Index ldo) {
  using P = simd::Pack<Scalar>;
  const Index full = n - n % P::width;
  Index r0 = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Scalar, float> && 16 % K == 0) {
    if (ldo == K) r0 = thin_dot_row_groups<K>(m, n, v, ldv, rows, ldm, b, out);
  }
#endif
  for (Index r = r0; r < m; ++r) {
    const Scalar* vr = v + r * ldv;
    typename P::Reg acc[K];
    for (int j = 0; j < K; ++j) acc[j] = P::zero();
    for (Index c = 0; c < full; c += P::width) {
      const typename P::Reg x = P::load(vr + c);
      for (int j = 0; j < K; ++j) acc[j] = P::fma(x, P::load(rows + j * ldm + c), acc[j]);
    }
    if (full < n) {
      const typename P::Reg x = P::load(vr + full, n - full);  // zero lanes past n
      for (int j = 0; j < K; ++j)
        acc[j] = P::fma(x, P::load(rows + j * ldm + full, n - full), acc[j]);
    }
    for (int j = 0; j < K; ++j) out[r * ldo + j] = (b ? b[j] : Scalar(0)) + P::sum(acc[j]);
  }
}

// thin_rank_update on the NP packs of columns starting at c0 (the last with `last` lanes): the
// K x NP accumulator packs stay in registers while the m rows of v stream past once.
template <int K, int NP, class Scalar>
void thin_rank_update_block(Index m, Index c0, Index last, const Scalar* coef, Index ldc,
                            const Scalar* v, Index ldv, Scalar* acc, Index lda) {
  using P = simd::Pack<Scalar>;
  using Reg = typename P::Reg;
  auto lanes = [last](int p) { return p == NP - 1 ? last : P::width; };
  Reg a[K][NP];
  for (int i = 0; i < K; ++i)
    for (int p = 0; p < NP; ++p) a[i][p] = P::load(acc + i * lda + c0 + p * P::width, lanes(p));
  for (Index r = 0; r < m; ++r) {
    const Scalar* vr = v + r * ldv + c0;
    Reg x[NP];
    for (int p = 0; p < NP; ++p)
      x[p] = (p < NP - 1 || last == P::width) ? P::load(vr + p * P::width)
                                              : P::load(vr + p * P::width, last);
    for (int i = 0; i < K; ++i) {
      const Reg ci = P::set1(coef[r * ldc + i]);
      for (int p = 0; p < NP; ++p) a[i][p] = P::fma(ci, x[p], a[i][p]);
    }
  }
  for (int i = 0; i < K; ++i)
    for (int p = 0; p < NP; ++p) P::store(acc + i * lda + c0 + p * P::width, a[i][p], lanes(p));
}

// f(std::integral_constant<int, K>{}) for the run-time k in 1..4, the kernels' compile-time K
// (and the number of packs in a column block).
template <class F>
void with_thin_k(Index k, F&& f) {
  switch (k) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    default:
      return f(std::integral_constant<int, 4>{});
  }
}

// Calls block(np, c0, last) for each block of up to four packs of n columns, np an
// std::integral_constant (the block's packs) and `last` the lanes used in its last pack.
template <class Scalar, class Block>
void for_each_column_block(Index n, Block&& block) {
  using P = simd::Pack<Scalar>;
  constexpr Index kBlock = 4 * P::width;
  for (Index c0 = 0; c0 < n; c0 += kBlock) {
    const Index cols = std::min(kBlock, n - c0);
    const Index packs = (cols + P::width - 1) / P::width, last = cols - (packs - 1) * P::width;
    with_thin_k(packs, [&](auto np) { block(np, c0, last); });
  }
}

// out(r, c) = (b ? b[c] : 0) + sum_{i < K} coef(r, i) rows(i, c) for r < m, c < n:
// K axpys of contiguous rows per output row. Strides: coef ldc, rows ldm, out ldo.
template <int K, class Scalar>
void thin_axpy_rows(Index m, Index n, const Scalar* coef, Index ldc, const Scalar* rows, Index ldm,
                    const Scalar* b, Scalar* out, Index ldo) {
  for_each_column_block<Scalar>(n, [&](auto np, Index c0, Index last) {
    thin_axpy_block<K, np()>(m, c0, last, coef, ldc, rows, ldm, b, out, ldo);
  });
}

// acc(i, c) += sum_{r < m} coef(r, i) v(r, c) for i < K, c < n: K rank-m updates sharing v.
// Rows are added in order, so each sum's order is fixed. ldc = 0 with coef = {1} sums rows.
template <int K, class Scalar>
void thin_rank_update(Index m, Index n, const Scalar* coef, Index ldc, const Scalar* v, Index ldv,
                      Scalar* acc, Index lda) {
  for_each_column_block<Scalar>(n, [&](auto np, Index c0, Index last) {
    thin_rank_update_block<K, np()>(m, c0, last, coef, ldc, v, ldv, acc, lda);
  });
}

}  // namespace neuralode::nn::detail
