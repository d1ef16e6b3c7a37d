// Micro-benchmarks of nn's vector fields, one thread, float: the spiral demo's field
// (cube -> Linear(2, 50) -> tanh -> Linear(50, 2)) at batch 20 and 512, and FFJORD's MLP
// 64-256-256-64 with softplus and t concatenated at every layer (ConcatLinear), batch 256.
// "Forward" is VectorField::forward; "ForwardVjp" is VectorField::vjp, which runs its own
// forward and writes f, a^T df/dx, accumulates a^T df/dtheta and a^T df/dt.
// Run: ./build/bench/bench_nn_fields --benchmark_min_time=0.2 [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "neuralode/nn.hpp"

namespace {

using neuralode::Index;
using neuralode::Matrix;
namespace nn = neuralode::nn;

std::unique_ptr<nn::Layer<float>> spiral() {
  return std::make_unique<nn::Sequential<float>>(
      std::make_unique<nn::Cube<float>>(2), std::make_unique<nn::Linear<float>>(2, 50),
      std::make_unique<nn::Activation<float>>(nn::ActivationFn::tanh, 50),
      std::make_unique<nn::Linear<float>>(50, 2));
}

std::unique_ptr<nn::Layer<float>> concat_mlp() {
  return std::make_unique<nn::Sequential<float>>(
      std::make_unique<nn::ConcatLinear<float>>(64, 256),
      std::make_unique<nn::Activation<float>>(nn::ActivationFn::softplus, 256),
      std::make_unique<nn::ConcatLinear<float>>(256, 256),
      std::make_unique<nn::Activation<float>>(nn::ActivationFn::softplus, 256),
      std::make_unique<nn::ConcatLinear<float>>(256, 64));
}

struct Setup {
  nn::LayerField<float> field;
  Matrix<float> x, a, f, x_bar;
  std::vector<float> theta_bar;
  Setup(std::unique_ptr<nn::Layer<float>> root, Index batch) : field(std::move(root)) {
    nn::init_default(field, 1);
    const Index d = field.dim();
    nn::Rng rng(2);
    x.resize(batch, d);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-2, 2));
    a = Matrix<float>::Ones(batch, d);
    f.resize(batch, d);
    x_bar.resize(batch, d);
    theta_bar.assign(static_cast<std::size_t>(field.num_params()), 0.0f);
  }
  auto cx() const { return neuralode::ConstMatrixView<float>(x.data(), x.rows(), x.cols()); }
};

template <class Make>
void forward(benchmark::State& state, Make make) {
  Setup s(make(), state.range(0));
  for (auto _ : state) {
    s.field.forward(0.5f, s.cx(), neuralode::MatrixView<float>(s.f.data(), s.f.rows(), s.f.cols()));
    benchmark::DoNotOptimize(s.f.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class Make>
void forward_vjp(benchmark::State& state, Make make) {
  Setup s(make(), state.range(0));
  float t_bar = 0;
  for (auto _ : state) {
    s.field.vjp(0.5f, s.cx(), neuralode::ConstMatrixView<float>(s.a.data(), s.a.rows(), s.a.cols()),
                s.f.data(),
                neuralode::MatrixView<float>(s.x_bar.data(), s.x_bar.rows(), s.x_bar.cols()),
                s.theta_bar.data(), &t_bar);
    benchmark::DoNotOptimize(s.x_bar.data());
    benchmark::DoNotOptimize(s.theta_bar.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_SpiralForward(benchmark::State& state) {
  forward(state, spiral);
}
void BM_SpiralForwardVjp(benchmark::State& state) {
  forward_vjp(state, spiral);
}
void BM_ConcatMlpSoftplusForward(benchmark::State& state) {
  forward(state, concat_mlp);
}
void BM_ConcatMlpSoftplusForwardVjp(benchmark::State& state) {
  forward_vjp(state, concat_mlp);
}

BENCHMARK(BM_SpiralForward)->Arg(20)->Arg(512)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SpiralForwardVjp)->Arg(20)->Arg(512)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConcatMlpSoftplusForward)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConcatMlpSoftplusForwardVjp)->Arg(256)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
