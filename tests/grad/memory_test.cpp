// What each gradient method keeps, measured from its own accounting (GradStats::bytes_kept):
// direct grows linearly in the number of steps by exactly its tape record, the adjoint is flat,
// checkpoint grows like N/K, binomial like log N.
// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's vectorised reductions inline them; nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

#include <cmath>

#include "grad/test_fields.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::grad {
namespace {

using testing::TanhMlpField;

constexpr Index kBatch = 4, kDim = 3;

// Forward and backward over [0, 1] with N fixed Euler or rk4 steps; returns the stats.
GradStats run(const std::string& grad, const std::string& method, int steps,
              int checkpoint_every = 32) {
  TanhMlpField<double> field(kDim, 16);
  Matrix<double> y0(kBatch, kDim);
  for (Index i = 0; i < y0.size(); ++i) y0.data()[i] = std::sin(1.0 + i);
  std::vector<double> times = {0.0, 0.5, 1.0};
  ode::SolveOptions opt;
  opt.method = method;
  opt.step_size = 1.0 / steps;
  GradOptions g{.method = grad};
  g.checkpoint_every = checkpoint_every;
  auto m = make_gradient_method<double>(g);
  m->forward(field, ConstMatrixView<double>(y0.data(), kBatch, kDim), times, opt);
  Matrix<double> dl(3, kBatch * kDim);
  dl.setOnes();
  Gradients<double> out;
  m->backward(ConstMatrixView<double>(dl.data(), 3, kBatch * kDim), out);
  EXPECT_EQ(m->stats().forward.num_accepted, steps);
  return m->stats();
}

// Direct keeps one state per stage plus (t, h, where the first stage's record is) per step:
// N (s n + 3) scalars, then a constant (output records and the reverse pass's s + 1 state
// buffers). This field keeps no activation records (TanhMlpField cannot record); records add
// s record_size scalars per step (DirectRecordsGiveBitIdenticalGradients checks that).
TEST(DirectMemory, GrowsByExactlyOneStatePerStagePerStep) {
  for (const char* method : {"euler", "rk4"}) {
    const Index s = ode::find_method(method).stages, n = kBatch * kDim;
    const std::size_t per_step = static_cast<std::size_t>(s * n + 3) * sizeof(double);
    const GradStats a = run("direct", method, 10), b = run("direct", method, 100),
                    c = run("direct", method, 1000);
    EXPECT_EQ(b.bytes_kept - a.bytes_kept, 90 * per_step) << method;
    EXPECT_EQ(c.bytes_kept - b.bytes_kept, 900 * per_step) << method;
    // The constant part: 3 output records and the reverser's (s + 1) * n scalars.
    EXPECT_EQ(a.bytes_kept - 10 * per_step,
              3 * (sizeof(Index) + sizeof(double)) +
                  static_cast<std::size_t>((s + 1) * n) * sizeof(double))
        << method;
  }
}

TEST(AdjointMemory, IsConstantInTheNumberOfSteps) {
  const GradStats a = run("adjoint", "euler", 10), b = run("adjoint", "euler", 100),
                  c = run("adjoint", "euler", 1000);
  EXPECT_EQ(a.bytes_kept, b.bytes_kept);
  EXPECT_EQ(b.bytes_kept, c.bytes_kept);
  EXPECT_GT(c.nfe_backward, b.nfe_backward);  // the work grows, the memory does not
}

// Checkpoint keeps N/K states, N step ends and one segment of K steps: with K fixed its memory
// grows by one state per K steps plus one scalar per step.
TEST(CheckpointMemory, GrowsLikeStepsOverK) {
  const Index n = kBatch * kDim;
  const GradStats a = run("checkpoint", "euler", 128, 16), b = run("checkpoint", "euler", 1024, 16);
  const double growth = static_cast<double>(b.bytes_kept - a.bytes_kept);
  // (1024 - 128) / 16 = 56 more states of n doubles, plus at most 2 x 896 step-end scalars
  // (std::vector capacity doubling).
  EXPECT_GE(growth, 56.0 * n * sizeof(double));
  EXPECT_LE(growth,
            56.0 * n * sizeof(double) + 2 * 896.0 * sizeof(double) + 1024.0 * sizeof(double));
  // Far less than direct's tape for the same run.
  EXPECT_LT(b.bytes_kept * 4, run("direct", "euler", 1024).bytes_kept);
}

// Binomial keeps ceil(log2 N) + 2 states plus one scalar per step: 10x more steps adds about
// log2(10) = 3.3 states, not 10x the memory; the recomputation grows like N log N.
TEST(BinomialMemory, GrowsLikeLogOfTheNumberOfSteps) {
  const Index n = kBatch * kDim;
  const GradStats a = run("binomial", "euler", 100), b = run("binomial", "euler", 1000);
  const double state_bytes = n * sizeof(double);
  const double scalar_growth = 2 * 900 * sizeof(double);  // step starts (vector capacity)
  EXPECT_LE(static_cast<double>(b.bytes_kept - a.bytes_kept), 4 * state_bytes + scalar_growth);
  const GradStats d = run("direct", "euler", 1000);
  EXPECT_LT(b.bytes_kept * 5, d.bytes_kept);
  // About (N/2) log2 N recomputed steps: 1000 steps -> ~5000 evaluations, bounded by N log2 N.
  EXPECT_LE(b.nfe_recompute, static_cast<std::int64_t>(1000 * std::log2(1000.0)) + 2000);
}

}  // namespace
}  // namespace neuralode::grad
