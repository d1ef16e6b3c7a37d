// The single-core f32 FMA peak (bench/fma_peak.hpp) on its own.
#include "fma_peak.hpp"

BENCHMARK(neuralode_bench::BM_FmaPeakF32);

BENCHMARK_MAIN();
