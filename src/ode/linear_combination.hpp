// The one vector kernel of a Runge-Kutta step: out = base + sum_j coef[j] * rows[j], over n
// components. Every stage input (base y, the terms h a_ij k_j) and the solution update
// (h b_j k_j) is one call; the error estimate (h e_j k_j) uses the same pieces in
// error_norm.hpp, which reduces it into the norm instead of storing it.
//
// Why a kernel of its own: at the sizes small Neural ODEs have (batch * dim <= 64) a step's
// arithmetic is a few hundred FMAs, so the loop structure decides its cost. Here each chunk of
// up to kChunkPacks SIMD packs (64 doubles or 128 floats with AVX-512) stays in registers while
// all terms are added, each term costing one broadcast and one FMA per pack; the last pack of the
// state is a masked partial one (simd.hpp), so no size needs a scalar epilogue. Measured before
// (session 5, dopri5 at 64 components): blocks of two packs with the term loop inside were 36 %
// of a step, and the scalar tail for n < 4 chained every term through memory.
//
// Every component sees the same operations in the same order (base, then term 0, 1, ...,
// each a fused multiply-add where the target has FMA), whatever its position: a component's value
// does not depend on the state's size or on where in a pack it sits.
#pragma once

#include <type_traits>
#include <utility>

#include "common/simd.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode::step_kernels {

#if defined(__AVX512F__)
inline constexpr int kChunkPacks = 8;  // 8 accumulators + 1 broadcast of 32 zmm registers
#else
inline constexpr int kChunkPacks = 4;  // AVX2's 16 ymm registers hold 4 packs of 2 ymm each
#endif

// Pack `pack` of P starting at `from`: the last one partial, with `last` lanes.
template <int P, class Scalar>
[[gnu::always_inline]] inline auto load_pack(const Scalar* from, int pack, Index last) {
  using Pk = simd::Pack<Scalar>;
  return pack < P - 1 ? Pk::load(from + pack * Pk::width) : Pk::load(from + pack * Pk::width, last);
}

// acc[p] += sum_j coef[j] rows[j][offset + p * width ...] for the P packs (p... = 0..P-1): one
// broadcast and P fused multiply-adds per term, in term order.
//
// The packs are unrolled by a fold over p... rather than by loops: with loops GCC 12 kept the
// accumulator array in memory (its scalar replacement runs before loops are unrolled) and, as
// the masked load may read any memory, stored every accumulator back after every term.
template <int P, class Scalar, int... p>
[[gnu::always_inline]] inline void add_terms(typename simd::Pack<Scalar>::Reg (&acc)[P],
                                             std::integer_sequence<int, p...>,
                                             const Scalar* const* rows, Index offset,
                                             const Scalar* coef, int terms, Index last) {
  using Pk = simd::Pack<Scalar>;
  for (int j = 0; j < terms; ++j) {
    const auto c = Pk::set1(coef[j]);
    const Scalar* r = rows[j] + offset;
    ((acc[p] = Pk::fma(c, load_pack<P>(r, p, last), acc[p])), ...);
  }
}

// Calls chunk(std::integral_constant<int, P>{}, m0, last) over [0, n), n >= 1, in chunks of
// P <= kChunkPacks packs (all full but the state's last pack, which has `last` lanes). The
// chunk's size picks the unrolled body by a fold over P = 1..kChunkPacks, which the compiler
// turns into a jump into bodies inlined here. Measured against alternatives at 8 components: a
// generic dispatcher function (its captures went through memory and its frame was realigned
// for zmm spills) cost more than the FMAs; a table of function pointers (an extra call per
// combination) ~8 % of a small step.
template <class Scalar, class Chunk>
[[gnu::always_inline]] inline void for_each_chunk(Index n, Chunk&& chunk) {
  constexpr Index W = simd::Pack<Scalar>::width, kChunk = kChunkPacks * W;
  Index m0 = 0;
  for (; n - m0 > kChunk; m0 += kChunk) chunk(std::integral_constant<int, kChunkPacks>{}, m0, W);
  const Index rest = n - m0, packs = (rest + W - 1) / W, last = rest - (packs - 1) * W;
  [&]<int... p>(std::integer_sequence<int, p...>) {
    (void)((packs == p + 1 && (chunk(std::integral_constant<int, p + 1>{}, m0, last), true)) ||
           ...);
  }
  (std::make_integer_sequence<int, kChunkPacks>{});
}

// out[m] = (base ? base[m] : 0) + sum_{j < terms} coef[j] * rows[j][m] for m in [0, n), n >= 1.
// out may be base (in place).
template <class Scalar>
void linear_combination(Scalar* out, const Scalar* base, const Scalar* const* rows,
                        const Scalar* coef, int terms, Index n) {
  using Pk = simd::Pack<Scalar>;
  for_each_chunk<Scalar>(n, [&](auto np, Index m0, Index last) {
    constexpr int P = np();
    [&]<int... p>(std::integer_sequence<int, p...> packs) {
      typename Pk::Reg acc[P] = {(base ? load_pack<P>(base + m0, p, last) : Pk::zero())...};
      add_terms<P>(acc, packs, rows, m0, coef, terms, last);
      ((p < P - 1 ? Pk::store(out + m0 + p * Pk::width, acc[p])
                  : Pk::store(out + m0 + p * Pk::width, acc[p], last)),
       ...);
    }
    (std::make_integer_sequence<int, P>{});
  });
}

}  // namespace neuralode::ode::step_kernels
