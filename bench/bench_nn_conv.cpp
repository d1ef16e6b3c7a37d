// The ODE-Net convolutional field, f(t, x) = GN(CC(relu(GN(CC(t, x))))) with CC =
// ConcatConv2d(64 -> 64, 3x3, padding 1) and GN = GroupNorm(32, 64), batch 128, 6x6 images,
// float, one thread: forward, and forward + reverse pass (x_bar and theta_bar). The layers are
// composed by hand so that the numbers are the layers' own (no container overhead).
//   build/bench/bench_nn_conv --benchmark_min_time=2
// GFLOP/s counts the two convolutions only, 2 * N * 64 * 36 * 64 * 9 FLOPs each per product
// (padded taps included, the t channel excluded); reverse = 2 products per convolution.
// BM_FmaPeakF32 (bench/fma_peak.hpp) runs first, so each run carries the peak it is judged
// against.
#include <benchmark/benchmark.h>

#include <vector>

#include "fma_peak.hpp"

#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/threads.hpp"

namespace {

using namespace neuralode;
using namespace neuralode::nn;

BENCHMARK(neuralode_bench::BM_FmaPeakF32);

constexpr Index kBatch = 128, kChannels = 64, kSide = 6;
constexpr double kConvFlops = 2.0 * kBatch * kChannels * kSide * kSide * kChannels * 9;

struct ConvField {
  Conv2dOptions conv{.in_channels = kChannels,
                     .out_channels = kChannels,
                     .kernel_size = 3,
                     .padding = 1,
                     .height = kSide,
                     .width = kSide};
  GroupNormOptions norm{
      .num_groups = 32, .num_channels = kChannels, .height = kSide, .width = kSide};
  ConcatConv2d<float> c1{conv}, c2{conv};
  GroupNorm<float> n1{norm}, n2{norm};
  Activation<float> relu{ActivationFn::relu, kChannels* kSide* kSide};
  std::vector<Layer<float>*> layers{&c1, &n1, &relu, &c2, &n2};
  std::vector<float> params, grad;
  std::vector<Index> offsets;
  const Index dim = kChannels * kSide * kSide;
  std::vector<Matrix<float>> acts;       // acts[0] = x, acts[i + 1] = layer i's output
  std::vector<std::vector<float>> ctxs;  // layer i's context
  Matrix<float> g0, g1;

  ConvField() {
    std::vector<ParamView> views;
    Index off = 0;
    for (auto* l : layers) {
      offsets.push_back(off);
      for (auto v : l->param_specs()) {
        v.offset += off;
        views.push_back(v);
      }
      off += l->num_params();
    }
    params.resize(static_cast<std::size_t>(off));
    grad.resize(params.size());
    init_default<float>(params, views, 1);
    for (std::size_t i = 0; i < layers.size(); ++i) layers[i]->bind(params.data() + offsets[i]);
    for (std::size_t i = 0; i <= layers.size(); ++i) {
      acts.push_back(Matrix<float>::Random(kBatch, dim));
    }
    for (auto* l : layers) ctxs.emplace_back(static_cast<std::size_t>(l->context_size(kBatch) + 1));
    g0 = Matrix<float>::Random(kBatch, dim);
    g1 = g0;
  }
  static ConstMatrixView<float> cv(const Matrix<float>& m) {
    return {m.data(), m.rows(), m.cols()};
  }
  static MatrixView<float> mv(Matrix<float>& m) { return {m.data(), m.rows(), m.cols()}; }

  void forward(float t) {
    for (std::size_t i = 0; i < layers.size(); ++i)
      layers[i]->forward(t, cv(acts[i]), mv(acts[i + 1]), ctxs[i].data());
  }
  void backward(float t = 0.5f) {  // cotangent = ones-ish in g0, reverse through every layer
    float t_bar = 0;
    Matrix<float>* in = &g0;
    Matrix<float>* out = &g1;
    for (std::size_t i = layers.size(); i-- > 0;) {
      layers[i]->backward(t, cv(acts[i]), ctxs[i].data(), cv(*in), mv(*out),
                          grad.data() + offsets[i], &t_bar);
      std::swap(in, out);
    }
    benchmark::DoNotOptimize(t_bar);
  }
};

void BM_ConvFieldForward(benchmark::State& state) {
  set_num_threads(1);
  ConvField f;
  for (auto _ : state) {
    f.forward(0.5f);
    benchmark::DoNotOptimize(f.acts.back().data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * kConvFlops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ConvFieldForward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ConvFieldForwardBackward(benchmark::State& state) {
  set_num_threads(1);
  ConvField f;
  for (auto _ : state) {
    f.forward(0.5f);
    f.g0.setConstant(1e-3f);
    f.backward();
    benchmark::DoNotOptimize(f.grad.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(6 * kConvFlops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ConvFieldForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

// One ConcatConv2d and one GroupNorm alone, to see where the time goes.
void BM_ConcatConv2dForward(benchmark::State& state) {
  set_num_threads(1);
  ConvField f;
  for (auto _ : state) f.c1.forward(0.5f, f.cv(f.acts[0]), f.mv(f.acts[1]), f.ctxs[0].data());
  state.counters["GFLOP/s"] =
      benchmark::Counter(kConvFlops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ConcatConv2dForward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ConcatConv2dBackward(benchmark::State& state) {
  set_num_threads(1);
  ConvField f;
  f.c1.forward(0.5f, f.cv(f.acts[0]), f.mv(f.acts[1]), f.ctxs[0].data());
  float t_bar = 0;
  for (auto _ : state) {
    f.c1.backward(0.5f, f.cv(f.acts[0]), f.ctxs[0].data(), f.cv(f.g0), f.mv(f.g1), f.grad.data(),
                  &t_bar);
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * kConvFlops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ConcatConv2dBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GroupNormForwardBackward(benchmark::State& state) {
  ConvField f;
  for (auto _ : state) {
    f.n1.forward(0, f.cv(f.acts[1]), f.mv(f.acts[2]), f.ctxs[1].data());
    f.n1.backward(0, f.cv(f.acts[1]), f.ctxs[1].data(), f.cv(f.g0), f.mv(f.g1),
                  f.grad.data() + f.offsets[1], nullptr);
  }
}
BENCHMARK(BM_GroupNormForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
