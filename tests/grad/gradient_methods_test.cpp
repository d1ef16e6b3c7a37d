// Gradient methods against independent references: closed forms, central finite differences of
// the discrete computation, and each other.
// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's matrix exponential inlines them (as in matmul_eigen.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <unsupported/Eigen/MatrixFunctions>

#include "grad/test_fields.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/nn.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::grad {
namespace {

using testing::LinearField;
using testing::TanhMlpField;

// A loss over the whole trajectory: L = sum_i <G_i, y(t_i)> with fixed random-looking weights G,
// so that dL/dy(t_i) = G_i (what a user's loss hands to backward()).
Matrix<double> loss_weights(Index num_times, Index n) {
  Matrix<double> g(num_times, n);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = std::cos(0.7 + 1.9 * static_cast<double>(i));
  return g;
}

double loss(const ode::Solution<double>& sol, const Matrix<double>& g) {
  return (sol.ys.array() * g.array()).sum();
}

double rel_err(const Eigen::Ref<const Eigen::VectorXd>& a,
               const Eigen::Ref<const Eigen::VectorXd>& b) {
  return (a - b).norm() / std::max(b.norm(), 1e-300);
}

Eigen::Map<const Eigen::VectorXd> flat(const Matrix<double>& m) {
  return {m.data(), m.size()};
}

struct Problem {
  Matrix<double> y0;
  std::vector<double> times;
  ode::SolveOptions options;
};

// Runs forward + backward with the named method.
Gradients<double> gradient_of(nn::VectorField<double>& field, const Problem& p, GradOptions g,
                              GradStats* stats = nullptr) {
  auto method = make_gradient_method<double>(g);
  const auto& sol = method->forward(
      field, ConstMatrixView<double>(p.y0.data(), p.y0.rows(), p.y0.cols()), p.times, p.options);
  const Matrix<double> w = loss_weights(sol.num_times(), sol.ys.cols());
  Gradients<double> out;
  method->backward(ConstMatrixView<double>(w.data(), w.rows(), w.cols()), out);
  if (stats) *stats = method->stats();
  return out;
}

// Central differences of the discrete computation with the step sequence frozen: the solve is
// first run as given, then every perturbed solve runs on exactly those steps (SolveOptions::grid),
// which is what "accepted step sizes are constants" means. h = 1e-6 balances truncation (h^2 *
// f''' ~ 1e-12) against rounding (eps * L / h ~ 1e-10) for O(1) losses, so the differences are
// good to ~1e-9 relative: below the 1e-7 the tests ask for.
// A gradient to compare with: from central differences, or from a closed form.
struct ReferenceGradient {
  Eigen::VectorXd y0, params;
};
ReferenceGradient central_differences(nn::VectorField<double>& field, const Problem& p) {
  struct Steps : ode::StepObserver<double> {
    std::vector<double> ends;
    void on_step(const ode::AcceptedStep<double>& s) override {
      if (ends.empty()) ends.push_back(s.t);
      ends.push_back(s.t + s.h);
    }
  } steps;
  ode::SolverWorkspace<double> ws;
  ode::Solution<double> sol;
  ode::odeint<double>(field, ConstMatrixView<double>(p.y0.data(), p.y0.rows(), p.y0.cols()),
                      p.times, p.options, ws, sol, &steps);
  steps.ends.back() = p.times.back();
  ode::SolveOptions frozen = p.options;
  frozen.grid = steps.ends;
  frozen.step_size = 0;  // the grid defines the steps (SolveOptions refuses both)
  const Matrix<double> w = loss_weights(sol.num_times(), sol.ys.cols());
  auto L = [&](const Matrix<double>& y0) {
    ode::odeint<double>(field, ConstMatrixView<double>(y0.data(), y0.rows(), y0.cols()), p.times,
                        frozen, ws, sol);
    return loss(sol, w);
  };
  const double h = 1e-6;
  ReferenceGradient fd;
  fd.y0.resize(p.y0.size());
  Matrix<double> y = p.y0;
  for (Index i = 0; i < y.size(); ++i) {
    const double keep = y.data()[i];
    y.data()[i] = keep + h;
    const double up = L(y);
    y.data()[i] = keep - h;
    const double down = L(y);
    y.data()[i] = keep;
    fd.y0[i] = (up - down) / (2 * h);
  }
  auto theta = field.params();
  fd.params.resize(static_cast<Index>(theta.size()));
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double keep = theta[i];
    theta[i] = keep + h;
    const double up = L(p.y0);
    theta[i] = keep - h;
    const double down = L(p.y0);
    theta[i] = keep;
    fd.params[static_cast<Index>(i)] = (up - down) / (2 * h);
  }
  return fd;
}

Problem mlp_problem(const std::string& method, double step_size = 0) {
  Problem p;
  p.y0.resize(3, 2);
  p.y0 << 0.5, -1.0, 1.5, 0.3, -0.7, 0.9;
  // Outputs between steps and at step ends, so dense output is differentiated too.
  p.times = {0.0, 0.13, 0.5, 0.77, 1.2};
  p.options.method = method;
  p.options.rtol = 1e-6;
  p.options.atol = 1e-8;
  p.options.step_size = step_size;
  return p;
}

class EveryMethod : public ::testing::TestWithParam<const ode::ButcherTableau*> {};
INSTANTIATE_TEST_SUITE_P(Registry, EveryMethod,
                         ::testing::ValuesIn(ode::all_methods().begin(), ode::all_methods().end()),
                         [](const auto& info) { return info.param->name; });

// The bound: direct vs central differences within 1e-7 relative.
constexpr double kDirectVsFd = 1e-7;

TEST_P(EveryMethod, DirectMatchesCentralDifferencesOnAnMlpField) {
  const ode::ButcherTableau& tab = *GetParam();
  TanhMlpField<double> field(2, 8);
  // Fixed-step methods take steps of 0.1 (outputs fall inside steps); adaptive methods run with
  // error control, their step sequence frozen for the differences.
  const Problem p = mlp_problem(tab.name, tab.adaptive() ? 0.0 : 0.1);
  const Gradients<double> g = gradient_of(field, p, {.method = "direct"});
  const ReferenceGradient fd = central_differences(field, p);
  EXPECT_LT(rel_err(flat(g.y0), fd.y0), kDirectVsFd) << tab.name;
  EXPECT_LT(rel_err(g.params, fd.params), kDirectVsFd) << tab.name;
}

// The linear problem y' = A y (LinearField, d = 4) with fixed A and y0.
struct LinearProblem {
  static constexpr Index d = 4;
  LinearField<double> field{d};
  Problem p;
  explicit LinearProblem(std::vector<double> times) {
    auto A = field.params();
    for (Index i = 0; i < d * d; ++i)
      A[static_cast<std::size_t>(i)] =
          0.3 * std::sin(2.0 + 3.1 * static_cast<double>(i)) - (i % (d + 1) == 0 ? 0.4 : 0);
    p.y0.resize(1, d);
    p.y0 << 1.0, -0.5, 0.25, 2.0;
    p.times = std::move(times);
  }
  // The exact gradient of L = sum_i <g_i, y(t_i)>, y(t) = exp(A t) y0: dL/dy0 = sum_i exp(A^T t_i)
  // g_i, and dL/dA = sum_i int_0^{t_i} exp(A^T (t_i - s)) g_i y0^T exp(A^T s) ds, the upper-right
  // block of exp([[A^T, g_i y0^T], [0, A^T]] t_i) (Van Loan 1978, "Computing integrals involving
  // the matrix exponential"). params is dA flattened row-major, as the field stores A.
  ReferenceGradient exact_gradient() const {
    const Index T = static_cast<Index>(p.times.size());
    const Matrix<double> w = loss_weights(T, d);
    const Eigen::MatrixXd Am = field.A();
    Eigen::VectorXd dy0 = Eigen::VectorXd::Zero(d);
    Eigen::MatrixXd dA = Eigen::MatrixXd::Zero(d, d);
    for (Index i = 0; i < T; ++i) {
      const double t = p.times[static_cast<std::size_t>(i)];
      const Eigen::VectorXd gi = w.row(i).transpose();
      dy0 += (Am.transpose() * t).exp() * gi;
      Eigen::MatrixXd big = Eigen::MatrixXd::Zero(2 * d, 2 * d);
      big.topLeftCorner(d, d) = Am.transpose();
      big.bottomRightCorner(d, d) = Am.transpose();
      big.topRightCorner(d, d) = gi * p.y0.row(0);
      dA += (big * t).exp().topRightCorner(d, d);
    }
    const Matrix<double> dA_rowmajor = dA;
    return {dy0, flat(dA_rowmajor)};
  }
};

TEST(Direct, MatchesTheClosedFormGradientOfALinearProblem) {
  LinearProblem lp({0.0, 0.4, 1.0, 1.7});
  lp.p.options.rtol = lp.p.options.atol = 1e-12;
  const Gradients<double> g = gradient_of(lp.field, lp.p, {.method = "direct"});
  const ReferenceGradient exact = lp.exact_gradient();
  // rtol = atol = 1e-12 makes the discrete gradient equal the continuous one to ~1e-10.
  EXPECT_LT(rel_err(flat(g.y0), exact.y0), kDirectVsFd);
  EXPECT_LT(rel_err(g.params, exact.params), kDirectVsFd);
}

// With a user grid (fixed steps), the continuous-adjoint methods' backward solves step on the same
// grid, reversed. Two checks: the backward VJP count is exactly 4 per grid step of rk4, and the
// gradient's error against the closed form falls like h^4 (least-squares slope of log error
// against log h within 4 +- 0.3 over h = 1/8 .. 1/64; the errors run from ~1e-6 to ~1e-10, far
// above rounding). A backward solve that ignored the grid takes one rk4 step per output interval:
// its error does not fall with h (slope ~0) and its count is 4 per interval.
TEST(ContinuousAdjoints, BackwardSolveStepsOnTheForwardGrid) {
  for (const GradientMethodInfo& info : all_gradient_methods()) {
    if (info.discrete) continue;  // no backward solve: the steps are reversed, not re-solved
    const std::string name(info.name);
    std::vector<double> log_h, log_err;
    for (int k = 3; k <= 6; ++k) {
      const double h = std::ldexp(1.0, -k);
      LinearProblem lp({0.0, 0.5, 1.0, 1.5});
      lp.p.options.method = "rk4";
      const int steps = static_cast<int>(std::lround(1.5 / h));
      for (int i = 0; i <= steps; ++i) lp.p.options.grid.push_back(i * h);
      GradStats stats;
      const Gradients<double> g = gradient_of(lp.field, lp.p, {.method = name}, &stats);
      EXPECT_EQ(stats.num_vjp, 4 * steps) << name << " h = " << h;
      const ReferenceGradient exact = lp.exact_gradient();
      log_h.push_back(std::log(h));
      log_err.push_back(std::log(rel_err(flat(g.y0), exact.y0) + rel_err(g.params, exact.params)));
    }
    const Eigen::Map<const Eigen::VectorXd> x(log_h.data(), 4), y(log_err.data(), 4);
    const double slope = ((x.array() - x.mean()) * (y.array() - y.mean())).sum() /
                         (x.array() - x.mean()).square().sum();
    EXPECT_NEAR(slope, 4.0, 0.3) << name;
  }
}

// Continuous-adjoint methods approximate the same gradient to the solve tolerances: at rtol =
// atol = 1e-10 forward and backward, the difference from direct is O(1e-9) relative; the issue
// asks for 1e-6.
constexpr double kAdjointVsDirect = 1e-6;

Problem tight_mlp_problem(const std::string& method) {
  Problem p = mlp_problem(method);
  p.options.rtol = p.options.atol = 1e-10;
  return p;
}

// dopri8 is left out: its outputs inside steps come from cubic Hermite interpolation, whose O(h^4)
// error over dopri8's long steps is ~1e-7 at rtol 1e-10, so direct's gradient (of that
// interpolant) and the continuous adjoint's differ by about that much. That is the dense output's
// accuracy, not the gradient's; DOP853's own 7th-order dense output would remove it.
TEST(Adjoint, MatchesDirectAtTightTolerance) {
  for (const char* method : {"dopri5", "tsit5", "bosh3"}) {
    TanhMlpField<double> field(2, 8);
    const Problem p = tight_mlp_problem(method);
    const Gradients<double> direct = gradient_of(field, p, {.method = "direct"});
    const Gradients<double> adjoint = gradient_of(field, p, {.method = "adjoint"});
    EXPECT_LT(rel_err(flat(adjoint.y0), flat(direct.y0)), kAdjointVsDirect) << method;
    EXPECT_LT(rel_err(adjoint.params, direct.params), kAdjointVsDirect) << method;
  }
}

TEST(Checkpoint, MatchesDirectAtTightTolerance) {
  for (const char* method : {"dopri5", "tsit5", "bosh3"}) {
    for (int every : {1, 3, 1000}) {
      TanhMlpField<double> field(2, 8);
      const Problem p = tight_mlp_problem(method);
      const Gradients<double> direct = gradient_of(field, p, {.method = "direct"});
      GradOptions opt{.method = "checkpoint"};
      opt.checkpoint_every = every;
      const Gradients<double> ckpt = gradient_of(field, p, opt);
      EXPECT_LT(rel_err(flat(ckpt.y0), flat(direct.y0)), kAdjointVsDirect)
          << method << " every " << every;
      EXPECT_LT(rel_err(ckpt.params, direct.params), kAdjointVsDirect)
          << method << " every " << every;
    }
  }
}

// Binomial recomputes the same steps from stored states and reverses them with the same code, so
// only the recomputed step sizes (t_{n+1} - t_n instead of the original h, equal to rounding)
// differ.
TEST_P(EveryMethod, BinomialEqualsDirectToRounding) {
  const ode::ButcherTableau& tab = *GetParam();
  TanhMlpField<double> field(2, 8);
  const Problem p = mlp_problem(tab.name, tab.adaptive() ? 0.0 : 0.05);
  const Gradients<double> direct = gradient_of(field, p, {.method = "direct"});
  for (int snapshots : {0, 2, 3}) {
    GradOptions opt{.method = "binomial"};
    opt.binomial_snapshots = snapshots;
    const Gradients<double> binomial = gradient_of(field, p, opt);
    EXPECT_LT(rel_err(flat(binomial.y0), flat(direct.y0)), 1e-12)
        << tab.name << " snapshots " << snapshots;
    EXPECT_LT(rel_err(binomial.params, direct.params), 1e-12)
        << tab.name << " snapshots " << snapshots;
  }
}

// Direct keeps each stage's activations when the field can record them (a LayerField of Linear
// and tanh layers) and runs vjp_recorded instead of re-running the forward. The arithmetic is the
// same, so the gradients must equal those without records bit for bit, for every method: FSAL
// carry-over of the first stage's record, Hermite end-point evaluations (first stage not
// recorded), rejected attempts and outputs inside steps included.
TEST_P(EveryMethod, DirectRecordsGiveBitIdenticalGradients) {
  const ode::ButcherTableau& tab = *GetParam();
  nn::LayerField<double> field(std::make_unique<nn::Sequential<double>>(
      std::make_unique<nn::Linear<double>>(2, 8),
      std::make_unique<nn::Activation<double>>(nn::ActivationFn::tanh, 8),
      std::make_unique<nn::Linear<double>>(8, 2)));
  nn::init_default(field, 3);
  Problem p = mlp_problem(tab.name, tab.adaptive() ? 0.0 : 0.05);
  // Adaptive methods: also a first step far too large, so that attempts are rejected.
  const std::vector<double> first_steps =
      tab.adaptive() ? std::vector<double>{0.0, 1.0} : std::vector<double>{0.0};
  for (double first_step : first_steps) {
    p.options.first_step = first_step;
    if (first_step > 0) p.options.rtol = p.options.atol = 1e-12;  // so that even dopri8 rejects
    GradStats with_stats, without_stats;
    const Gradients<double> with = gradient_of(field, p, {.method = "direct"}, &with_stats);
    GradOptions off{.method = "direct"};
    off.direct_record_step_bytes = 0;
    const Gradients<double> without = gradient_of(field, p, off, &without_stats);
    if (first_step > 0) {
      EXPECT_GT(with_stats.forward.num_rejected, 0) << tab.name;
    }
    EXPECT_EQ(flat(with.y0), flat(without.y0)) << tab.name << " first_step " << first_step;
    EXPECT_EQ(with.params, without.params) << tab.name << " first_step " << first_step;
    EXPECT_EQ(with_stats.num_vjp, without_stats.num_vjp) << tab.name;
    // The records were kept: per step, s records of 3 x (8 hidden + 8 slopes + 8 activations).
    const auto record_bytes =
        static_cast<std::size_t>(with_stats.backward_accepted * tab.stages * 3 * 24) *
        sizeof(double);
    EXPECT_EQ(with_stats.bytes_kept - without_stats.bytes_kept, record_bytes) << tab.name;
  }
}

TEST(GradientMethod, TimeGradientsMatchCentralDifferences) {
  for (const GradientMethodInfo& info : all_gradient_methods()) {
    const std::string name(info.name);
    TanhMlpField<double> field(2, 8);
    Problem p = tight_mlp_problem("dopri5");
    GradOptions opt{.method = name};
    opt.time_gradients = true;
    const Gradients<double> g = gradient_of(field, p, opt);
    ASSERT_EQ(g.times.size(), p.times.size());
    const Matrix<double> w = loss_weights(static_cast<Index>(p.times.size()), p.y0.size());
    // Differences of the (continuous) solution in t_i at rtol 1e-10: step 1e-5 keeps the
    // truncation (1e-10) and the solve noise (1e-10 / 1e-5) below 1e-5 relative.
    for (std::size_t i = 0; i < p.times.size(); ++i) {
      auto L = [&](double dt) {
        Problem q = p;
        q.times[i] += dt;
        return loss(ode::odeint(static_cast<ode::System<double>&>(field), q.y0, q.times, q.options),
                    w);
      };
      const double fd = (L(1e-5) - L(-1e-5)) / 2e-5;
      EXPECT_NEAR(g.times[i], fd, 1e-5 * std::max(1.0, std::abs(fd)))
          << name << " t_" << i << " fd " << fd;
    }
  }
}

TEST(GradientMethod, RejectsUnknownNamesAndBadShapes) {
  EXPECT_THROW(make_gradient_method<double>({.method = "backprop"}), InvalidArgument);
  try {
    make_gradient_method<double>({.method = "backprop"});
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("direct, adjoint, checkpoint, binomial"),
              std::string::npos);
  }
  TanhMlpField<double> field(2, 4);
  auto m = make_gradient_method<double>({.method = "adjoint"});
  Gradients<double> out;
  Matrix<double> g(2, 2);
  EXPECT_THROW(m->backward(ConstMatrixView<double>(g.data(), 2, 2), out),
               InvalidArgument);  // no forward
  Matrix<double> y0(1, 3);
  y0.setOnes();
  std::vector<double> times = {0.0, 1.0};
  EXPECT_THROW(m->forward(field, ConstMatrixView<double>(y0.data(), 1, 3), times, {}),
               InvalidArgument);  // dim
  y0.resize(1, 2);
  y0.setOnes();
  m->forward(field, ConstMatrixView<double>(y0.data(), 1, 2), times, {});
  Matrix<double> wrong(3, 2);  // 3 rows for 2 output times
  wrong.setOnes();
  EXPECT_THROW(m->backward(ConstMatrixView<double>(wrong.data(), 3, 2), out), InvalidArgument);
}

// Seminorm: g_theta never feeds back into the dynamics, so leaving it out of the error norm can
// only remove step rejections; on a field with many parameters it must not cost more evaluations.
TEST(Adjoint, SeminormNeverTakesMoreBackwardEvaluations) {
  TanhMlpField<double> field(
      4, 64);  // 4*64*2 + 64*2 + 4 = 644 parameters vs 8 state+adjoint components
  Problem p;
  p.y0.resize(2, 4);
  p.y0 << 0.5, -1.0, 1.5, 0.3, -0.7, 0.9, 0.2, -0.4;
  p.times = {0.0, 1.0, 2.0};
  p.options.rtol = 1e-6;
  p.options.atol = 1e-8;
  GradStats full, semi;
  GradOptions opt{.method = "adjoint"};
  const Gradients<double> g_full = gradient_of(field, p, opt, &full);
  opt.adjoint_norm = AdjointNorm::seminorm;
  const Gradients<double> g_semi = gradient_of(field, p, opt, &semi);
  EXPECT_LE(semi.nfe_backward, full.nfe_backward);
  // Both are accurate to about the tolerance.
  EXPECT_LT(rel_err(g_semi.params, g_full.params), 1e-4);
  std::printf("backward nfe: full norm %lld, seminorm %lld\n",
              static_cast<long long>(full.nfe_backward), static_cast<long long>(semi.nfe_backward));
}

}  // namespace
}  // namespace neuralode::grad

namespace neuralode::grad {
namespace {

// float32: every method at rtol 1e-5, atol 1e-6 against the double-precision direct gradient at
// rtol 1e-10. The solve's global error is ~10x its tolerance (see the ODE tests), ~1e-4 relative,
// and float rounding adds eps_f * (steps ~ 50) ~ 6e-6, so 1e-3 relative bounds every method.
// Binomial against float direct differs only by recomputation rounding: ~1e-6 relative.
TEST(Float32, EveryMethodAgreesWithTheDoubleGradientToFloatAccuracy) {
  testing::TanhMlpField<double> field_d(2, 8);
  testing::TanhMlpField<float> field_f(2, 8);
  Problem p = mlp_problem("dopri5");
  p.options.rtol = p.options.atol = 1e-10;
  const Gradients<double> ref = gradient_of(field_d, p, {.method = "direct"});
  const Matrix<float> y0 = p.y0.cast<float>();
  const std::vector<float> times(p.times.begin(), p.times.end());
  ode::SolveOptions opt = p.options;
  opt.rtol = 1e-5;
  opt.atol = 1e-6;
  // Every method's float gradient, computed the same way.
  auto float_gradient = [&](std::string_view name) {
    auto m = make_gradient_method<float>({.method = std::string(name)});
    const auto& sol =
        m->forward(field_f, ConstMatrixView<float>(y0.data(), y0.rows(), y0.cols()), times, opt);
    const Matrix<float> w = loss_weights(sol.num_times(), sol.ys.cols()).cast<float>();
    Gradients<float> g;
    m->backward(ConstMatrixView<float>(w.data(), w.rows(), w.cols()), g);
    return g;
  };
  const Eigen::VectorXd direct_params = float_gradient("direct").params.cast<double>();
  for (const GradientMethodInfo& info : all_gradient_methods()) {
    const std::string name(info.name);
    const Gradients<float> g = float_gradient(info.name);
    const Eigen::VectorXd params = g.params.cast<double>();
    const Matrix<double> gy0 = g.y0.cast<double>();
    EXPECT_LT(rel_err(flat(gy0), flat(ref.y0)), 1e-3) << name;
    EXPECT_LT(rel_err(params, ref.params), 1e-3) << name;
    // A discrete method differs from float direct only by recomputation rounding.
    if (info.discrete) {
      EXPECT_LT(rel_err(params, direct_params), 1e-5) << name << " vs direct in float";
    }
  }
}

}  // namespace
}  // namespace neuralode::grad
