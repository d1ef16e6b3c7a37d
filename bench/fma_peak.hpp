// The single-core f32 FMA peak of this machine: 12 independent chains of vector fused
// multiply-adds. The nn benchmarks' GFLOP/s are judged against it; bench_nn_conv registers it too,
// so that a convolution and the peak are measured minutes apart at most: this VM's clock (and
// with it every timing) moves by up to 2x from one run to the next.
#pragma once

// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*, here through _mm512_reduce_add_ps); nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <benchmark/benchmark.h>
#include <immintrin.h>

namespace neuralode_bench {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec fma(Vec a, Vec b, Vec c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline Vec splat(float x) {
  return _mm512_set1_ps(x);
}
inline float sum(Vec v) {
  return _mm512_reduce_add_ps(v);
}
#elif defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec fma(Vec a, Vec b, Vec c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline Vec splat(float x) {
  return _mm256_set1_ps(x);
}
inline float sum(Vec v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#else
#define NEURALODE_NO_FMA 1
#endif

#if !defined(NEURALODE_NO_FMA)
// One FMA on each accumulator, then an empty asm that "changes" each one in its register: GCC can
// neither fold the rounds nor run one chain's rounds back to back. The accumulators are separate
// variables: held in an array (and passed to benchmark::DoNotOptimize) GCC kept them in memory,
// and this measured 84 GFLOP/s, latency-bound, below what oneDNN's convolutions reach.
inline void keep_in_register(Vec& v) {
  asm volatile("" : "+v"(v));
}
template <class... V>
inline void fma_round(Vec a, Vec b, V&... acc) {
  ((acc = fma(acc, a, b)), ...);
  (keep_in_register(acc), ...);
}
#endif

inline void BM_FmaPeakF32(benchmark::State& state) {
#if defined(NEURALODE_NO_FMA)
  state.SkipWithError("built without FMA instructions: configure with NEURALODE_NATIVE=ON");
  for (auto _ : state) {
  }
#else
  // 12 chains: enough to cover a 4-cycle FMA latency on two FMA ports.
  constexpr int kChains = 12, kIters = 1000;
  Vec c0 = splat(0.0f), c1 = splat(0.001f), c2 = splat(0.002f), c3 = splat(0.003f),
      c4 = splat(0.004f), c5 = splat(0.005f), c6 = splat(0.006f), c7 = splat(0.007f),
      c8 = splat(0.008f), c9 = splat(0.009f), c10 = splat(0.010f), c11 = splat(0.011f);
  const Vec a = splat(0.9999f), b = splat(1e-6f);
  for (auto _ : state) {
    for (int i = 0; i < kIters; ++i)
      fma_round(a, b, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11);
  }
  const float total = sum(c0) + sum(c1) + sum(c2) + sum(c3) + sum(c4) + sum(c5) + sum(c6) +
                      sum(c7) + sum(c8) + sum(c9) + sum(c10) + sum(c11);
  benchmark::DoNotOptimize(total);
  // 2 flops per lane per FMA.
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * kLanes * kChains * kIters * state.iterations() / 1e9, benchmark::Counter::kIsRate);
#endif
}
}  // namespace neuralode_bench
