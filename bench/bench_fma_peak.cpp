// The single-core f32 FMA peak of this machine: 24 independent chains of vector fused
// multiply-adds (enough to cover the FMA latency on current x86 cores). The performance targets
// of the nn benchmarks are judged against this figure (docs/benchmarks.md, docs/conv.md).
#include <benchmark/benchmark.h>
#include <immintrin.h>

namespace {

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

void BM_FmaPeakF32(benchmark::State& state) {
#if defined(NEURALODE_NO_FMA)
  state.SkipWithError("built without FMA instructions: configure with NEURALODE_NATIVE=ON");
  for (auto _ : state) {
  }
#else
  constexpr int kChains = 24, kIters = 1000;
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = splat(0.001f * c);
  const Vec a = splat(0.9999f), b = splat(1e-6f);
  for (auto _ : state) {
    for (int i = 0; i < kIters; ++i)
      for (int c = 0; c < kChains; ++c) acc[c] = fma(acc[c], a, b);
    benchmark::DoNotOptimize(acc);
  }
  float total = 0;
  for (int c = 0; c < kChains; ++c) total += sum(acc[c]);
  benchmark::DoNotOptimize(total);
  // 2 flops per lane per FMA.
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * kLanes * kChains * kIters * state.iterations() / 1e9, benchmark::Counter::kIsRate);
#endif
}
BENCHMARK(BM_FmaPeakF32);

}  // namespace

BENCHMARK_MAIN();
