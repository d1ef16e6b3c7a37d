// Issue 4: the adjoint's parameter gradient g (P values) is the backward solve's quadrature, not
// part of its state, so the P-sized buffers are the solver's few quadrature buffers and nothing
// else (g itself accumulates in the caller's Gradients::params). Before, g rode in the state
// [x, a, g] and every stage row, y, y_new, the stage input, the two solution rows and Adjoint's
// own z were (2n + P)-sized: s + 6 P-sized buffers (7 for Euler, 947 MB of bench memory's
// B = 32, D = 4096).
// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's vectorised reductions inline them; nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "grad/test_fields.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::grad {
namespace {

using testing::TanhMlpField;

constexpr Index kBatch = 2, kDim = 8;
constexpr Index kN = kBatch * kDim;  // n: the field's state; the adjoint's state is 2n or n

// P of the test field: W1 (h x d), b1, c, W2 (d x h), b2.
Index num_params(Index hidden) {
  return 2 * hidden * kDim + 2 * hidden + kDim;
}

struct Config {
  const char* grad;
  const char* method;
  AdjointNorm norm;
  // P-sized buffers the backward solve's workspace holds (SolverWorkspace::resize_quadrature):
  // dq for fixed steps; + dq1 and acc_b adaptive; + acc_e when g is in the error norm.
  int p_buffers;
};

// The field of width `hidden` computing exactly the width-`base` field (base <= hidden): the
// extra hidden units have zero weights, so f and every step are the same and only P differs.
void embed(TanhMlpField<double>& field, Index hidden, Index base) {
  const TanhMlpField<double> small(kDim, base);
  const std::span<const double> from = small.params();
  const std::span<double> to = field.params();
  std::fill(to.begin(), to.end(), 0.0);
  const Index d = kDim, hb = base, h = hidden;
  for (Index i = 0; i < hb * d; ++i) to[i] = from[i];                        // W1 rows 0..hb
  for (Index i = 0; i < hb; ++i) to[h * d + i] = from[hb * d + i];           // b1
  for (Index i = 0; i < hb; ++i) to[h * d + h + i] = from[hb * d + hb + i];  // c
  for (Index r = 0; r < d; ++r)                                              // W2 columns 0..hb
    for (Index j = 0; j < hb; ++j)
      to[h * d + 2 * h + r * h + j] = from[hb * d + 2 * hb + r * hb + j];
  for (Index i = 0; i < d; ++i) to[2 * h * d + 2 * h + i] = from[2 * hb * d + 2 * hb + i];  // b2
}

GradStats run(const Config& c, Index hidden, Index base = 0) {
  TanhMlpField<double> field(kDim, hidden);
  if (base > 0) embed(field, hidden, base);
  Matrix<double> y0(kBatch, kDim);
  for (Index i = 0; i < y0.size(); ++i) y0.data()[i] = 0.5 * std::sin(1.0 + i);
  const std::vector<double> times = {0.0, 0.5, 1.0};  // g is carried across two intervals
  ode::SolveOptions opt;
  opt.method = c.method;
  if (!ode::find_method(c.method).adaptive()) opt.step_size = 0.05;
  opt.rtol = 1e-6;
  opt.atol = 1e-8;
  GradOptions g{.method = c.grad};
  g.adjoint_norm = c.norm;
  g.checkpoint_every = 4;
  auto m = make_gradient_method<double>(g);
  m->forward(field, ConstMatrixView<double>(y0.data(), kBatch, kDim), times, opt);
  Matrix<double> dl(3, kN);
  dl.setOnes();
  Gradients<double> out;
  m->backward(ConstMatrixView<double>(dl.data(), 3, kN), out);
  EXPECT_TRUE(out.params.allFinite());
  return m->stats();
}

const Config kConfigs[] = {
    {"adjoint", "euler", AdjointNorm::full, 1},
    {"adjoint", "rk4", AdjointNorm::full, 1},
    {"adjoint", "dopri5", AdjointNorm::seminorm, 3},
    {"adjoint", "dopri5", AdjointNorm::full, 4},
    {"adjoint", "tsit5", AdjointNorm::full, 4},
    {"checkpoint", "euler", AdjointNorm::full, 1},
    {"checkpoint", "dopri5", AdjointNorm::seminorm, 3},
    {"checkpoint", "dopri5", AdjointNorm::full, 4},
};

std::string describe(const Config& c) {
  return std::string(c.grad) + "/" + c.method + "/" + std::string(to_string(c.norm));
}

// What a method keeps grows with P by exactly its quadrature buffers: with n and the steps
// fixed, doubling the hidden width adds p_buffers * dP scalars and nothing else.
TEST(QuadratureMemory, GrowsWithTheParameterCountByExactlyTheQuadratureBuffers) {
  for (const Config& c : kConfigs) {
    const Index h1 = 256, h2 = 512;
    const GradStats a = run(c, h1), b = run(c, h2, h1);
    // The same dynamics, so the same forward steps (checkpoint's tape depends on them). The
    // backward steps may differ (P counts in the error norm's divisor) but keep nothing.
    ASSERT_EQ(a.forward.num_accepted, b.forward.num_accepted) << describe(c);
    const std::size_t dp = static_cast<std::size_t>(num_params(h2) - num_params(h1));
    EXPECT_EQ(b.bytes_kept - a.bytes_kept, c.p_buffers * dp * sizeof(double)) << describe(c);
  }
}

// The bound for the adjoint: bytes_kept <= 3.5 P sizeof(Scalar) + O(n) where P >> n.
// From the buffers: the backward workspace holds p_buffers * P (1 for fixed steps, 3 adaptive
// with the seminorm) plus, over the 2n-wide state [x, a], s stage rows, one stage input, y and
// y_new: (s + 3) 2n; Adjoint adds z (2n), the interval's two solution rows (4n) and the dynamics'
// -a buffer (n). With s <= 7 that is at most 27 n; the tableau's coefficients (c, a, b, e, dense
// and the dense weights) are under 2 KiB for every registered method. The full norm adds acc_e:
// 4 P, still well under the s + 6 P-sized buffers of the old augmented state.
TEST(QuadratureMemory, AdjointKeepsAboutThreeParameterSizedBuffers) {
  const Index hidden = 2048;  // P = 36872 against n = 16
  const std::size_t P = static_cast<std::size_t>(num_params(hidden));
  const std::size_t small = 27 * kN * sizeof(double) + 2048;
  for (const Config& c : kConfigs) {
    if (std::string(c.grad) != "adjoint") continue;
    const GradStats st = run(c, hidden);
    const std::size_t p_bytes = c.p_buffers * P * sizeof(double);
    EXPECT_GE(st.bytes_kept, p_bytes) << describe(c);
    EXPECT_LE(st.bytes_kept, p_bytes + small) << describe(c);
    if (c.norm == AdjointNorm::seminorm || !ode::find_method(c.method).adaptive()) {
      EXPECT_LE(static_cast<double>(st.bytes_kept),
                3.5 * static_cast<double>(P * sizeof(double)) + static_cast<double>(small))
          << describe(c);
    }
    const Index s = ode::find_method(c.method).stages;
    EXPECT_LT(st.bytes_kept, static_cast<std::size_t>(s + 6) * P * sizeof(double) / 2)
        << describe(c) << ": not even half of what the augmented state kept";
  }
}

}  // namespace
}  // namespace neuralode::grad
