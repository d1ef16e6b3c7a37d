// Quadratures (System::quadrature_size() > 0): q' = g(t, y) integrated alongside y with y's steps
// and stages (CVODES's quadrature variables, Serban & Hindmarsh 2005). Checks the order of q (on
// the Kepler problem), that the result and the step sequence equal those of integrating [y, q] as
// one state with the matching norm weights (full norm or seminorm), that the seminorm of Kidger,
// Chen & Lyons (2021) never costs steps, the input checks, and that a second solve does not
// allocate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "neuralode/ode.hpp"
#include "ode/every_method.hpp"
#include "support/alloc_counter.hpp"

namespace neuralode::ode {
namespace {

using testing::adaptive_methods;
using testing::loglog_slope;
using testing::method_name;

// y' = -y on a 1 x 2 state, y(0) = (1, 1/2), with Q = 3 quadratures
//   q0' = y0, q1' = t y1, q2' = y0^2 (+ a cos(omega t) y0 term when omega > 0)
// whose integrals from 0 to T are closed-form (below). The time-dependent and the nonlinear
// integrand check that stages pass their own t and y to the quadrature. omega > 0 makes q2 hard
// (oscillatory) while y stays smooth: the case where the seminorm saves steps.
class DecayWithQuadrature final : public System<double> {
 public:
  explicit DecayWithQuadrature(double omega = 0) : omega_(omega) {}
  void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override { dy = -y; }
  Index quadrature_size() const override { return 3; }
  void rhs_with_quadrature(double t, ConstMatrixView<double> y, MatrixView<double> dy,
                           std::span<double> dq) override {
    dy = -y;
    ++quadrature_calls;
    dq[0] = y(0, 0);
    dq[1] = t * y(0, 1);
    dq[2] = y(0, 0) * y(0, 0) + (omega_ > 0 ? std::cos(omega_ * t) * y(0, 0) : 0.0);
  }
  static Matrix<double> y0() {
    Matrix<double> m(1, 2);
    m << 1.0, 0.5;
    return m;
  }
  // q(T) - q(0).
  std::vector<double> exact_increment(double T) const {
    const double e = std::exp(-T);
    double q2 = 0.5 * (1 - e * e);
    if (omega_ > 0) {  // int_0^T cos(w t) e^-t dt = (1 + e^-T (w sin wT - cos wT)) / (1 + w^2)
      const double w = omega_;
      q2 += (1 + e * (w * std::sin(w * T) - std::cos(w * T))) / (1 + w * w);
    }
    return {1 - e, 0.5 * (1 - (1 + T) * e), q2};
  }
  long quadrature_calls = 0;

 private:
  double omega_;
};

// The same problem with q as part of the state: one row [y0, y1, q0, q1, q2].
class DecayAugmented final : public System<double> {
 public:
  explicit DecayAugmented(double omega = 0) : omega_(omega) {}
  void rhs(double t, ConstMatrixView<double> z, MatrixView<double> dz) override {
    dz(0, 0) = -z(0, 0);
    dz(0, 1) = -z(0, 1);
    dz(0, 2) = z(0, 0);
    dz(0, 3) = t * z(0, 1);
    dz(0, 4) = z(0, 0) * z(0, 0) + (omega_ > 0 ? std::cos(omega_ * t) * z(0, 0) : 0.0);
  }

 private:
  double omega_;
};

const std::vector<double> kQ0 = {0.25, -1.0, 2.0};  // q(0): a carried-in value, not zero

struct QuadratureResult {
  std::vector<double> q;
  Solution<double> sol;
};

QuadratureResult solve_with_quadrature(DecayWithQuadrature& sys, std::vector<double> times,
                                       const SolveOptions& opt) {
  QuadratureResult r;
  r.q = kQ0;
  SolverWorkspace<double> ws;
  const Matrix<double> y0 = DecayWithQuadrature::y0();
  odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 2), std::span<double>(r.q), times, opt,
                 ws, r.sol);
  return r;
}

double max_error(const std::vector<double>& q, const std::vector<double>& increment) {
  double err = 0;
  for (std::size_t m = 0; m < q.size(); ++m)
    err = std::max(err, std::abs(q[m] - (kQ0[m] + increment[m])));
  return err;
}

// The Kepler problem (mu = 1, semi-major axis 1, eccentricity e): a nonlinear system with every
// elementary differential present, started at eccentric anomaly E0 = 1 rather than at a
// pericentre, whose time-reversal symmetry cancels error terms (from the pericentre, dopri5's q
// showed local order 7 instead of 6). With Kepler's equation t = (E - e sin E) - M0,
// M0 = E0 - e sin E0, and dt = r dE, r = 1 - e cos E, x = cos E - e, three quadratures have closed
// forms as functions of E, taken between E0 and E(T):
//   q0' = 1/r   int = [E]
//   q1' = x     int = [(1 + e^2) sin E - e (3E/2 + sin(2E)/4)]
//   q2' = t/r   int = [E^2/2 + e cos E - M0 E]                 (time-dependent integrand)
class KeplerWithQuadrature final : public System<double> {
 public:
  explicit KeplerWithQuadrature(double e, double E0 = 1.0)
      : e_(e), E0_(E0), M0_(E0 - e * std::sin(E0)) {}
  void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override {
    const double x = y(0, 0), z = y(0, 1);
    const double r3 = std::pow(x * x + z * z, 1.5);
    dy(0, 0) = y(0, 2);
    dy(0, 1) = y(0, 3);
    dy(0, 2) = -x / r3;
    dy(0, 3) = -z / r3;
  }
  Index quadrature_size() const override { return 3; }
  void rhs_with_quadrature(double t, ConstMatrixView<double> y, MatrixView<double> dy,
                           std::span<double> dq) override {
    rhs(t, y, dy);
    const double r = std::hypot(y(0, 0), y(0, 1));
    dq[0] = 1 / r;
    dq[1] = y(0, 0);
    dq[2] = t / r;
  }
  // The state at E0 (dE/dt = 1/r).
  Matrix<double> y0() const {
    const double r = 1 - e_ * std::cos(E0_), s = std::sqrt(1 - e_ * e_);
    Matrix<double> m(1, 4);
    m << std::cos(E0_) - e_, s * std::sin(E0_), -std::sin(E0_) / r, s * std::cos(E0_) / r;
    return m;
  }
  std::vector<double> exact_increment(double T) const {
    double E = E0_ + T;  // Newton on E - e sin E = M0 + T (converges for e < 1)
    for (int i = 0; i < 50; ++i) E -= (E - e_ * std::sin(E) - M0_ - T) / (1 - e_ * std::cos(E));
    const auto antiderivatives = [&](double A) {
      return std::vector<double>{
          A, (1 + e_ * e_) * std::sin(A) - e_ * (1.5 * A + 0.25 * std::sin(2 * A)),
          0.5 * A * A + e_ * std::cos(A) - M0_ * A};
    };
    std::vector<double> out = antiderivatives(E);
    const std::vector<double> at0 = antiderivatives(E0_);
    for (std::size_t m = 0; m < 3; ++m) out[m] -= at0[m];
    return out;
  }

 private:
  double e_, E0_, M0_;
};

class QuadratureEveryMethod : public ::testing::TestWithParam<const ButcherTableau*> {};
INSTANTIATE_TEST_SUITE_P(Registry, QuadratureEveryMethod,
                         ::testing::ValuesIn(all_methods().begin(), all_methods().end()),
                         method_name);

class QuadratureEveryAdaptiveMethod : public ::testing::TestWithParam<const ButcherTableau*> {};
INSTANTIATE_TEST_SUITE_P(Registry, QuadratureEveryAdaptiveMethod,
                         ::testing::ValuesIn(adaptive_methods()), method_name);

// Integrating q with y's stages is applying the method to the system [y, q], so q's local error
// is O(h^(p+1)) and its global error O(h^p) for a method of order p.
//
// Local: one step of size h from the exact state, h = 0.5 * 2^(-k/2), e = 0.5. The points with
// error in (1e-13, 1e-4): a single step's rounding (a few ulps of the O(1) state, ~1e-16: the
// plateau every series reaches) stays 1000x below 1e-13. The last three points' slope must be
// p + 1 within the issue's +-0.15. A doubt: e is not arbitrary. At e = 0.5 every method is
// asymptotic in this window (measured); at e = 0.2 or 0.7 tsit5, dopri5 or dopri8 measured
// slopes 0.4-0.6 off, mixtures of the h^(p+1) and h^(p+2) terms that decay no faster than the
// window allows.
TEST_P(QuadratureEveryMethod, QuadratureLocalErrorHasOrderPPlusOne) {
  const ButcherTableau& tab = *GetParam();
  KeplerWithQuadrature sys(0.5);
  const Matrix<double> y0 = sys.y0();
  std::vector<double> h_all, err_all;
  std::string series;
  for (int k = 0; k < 40; ++k) {
    const double h = 0.5 * std::pow(2.0, -0.5 * k);
    SolveOptions opt;
    opt.method = tab.name;
    opt.step_size = h;
    std::vector<double> q(3, 0.0);
    SolverWorkspace<double> ws;
    Solution<double> sol;
    const std::vector<double> times = {0.0, h};
    odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 4), std::span<double>(q), times, opt,
                   ws, sol);
    ASSERT_EQ(sol.stats.num_accepted, 1);
    const std::vector<double> exact = sys.exact_increment(h);
    double err = 0;
    for (std::size_t m = 0; m < 3; ++m) err = std::max(err, std::abs(q[m] - exact[m]));
    char buf[64];
    std::snprintf(buf, sizeof buf, "h=%.3g err=%.3g; ", h, err);
    series += buf;
    if (err < 1e-4 && err > 1e-13) h_all.push_back(h), err_all.push_back(err);
  }
  const auto keep = static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, h_all.size()));
  const std::vector<double> h(h_all.end() - keep, h_all.end()),
      err(err_all.end() - keep, err_all.end());
  ASSERT_GE(h.size(), 3u) << tab.name << ": " << series;
  EXPECT_NEAR(loglog_slope(h, err), tab.order + 1, 0.15) << tab.name << ": " << series;
}

// Global: N = 2^k fixed steps over [0, 5], e = 0.3, q(0) = 0.5 carried in. As in
// convergence_test.cpp, the points whose error lies between 1e-2 (asymptotic) and 20x the
// rounding floor eps sqrt(N) max|q| (Henrici's random-walk model), the last three of them. The
// slope is p within +-0.15 for euler ... bosh3 and dopri8; dopri5 and tsit5 measure 5.46 and 5.26:
// their global error is still pre-asymptotic where it meets the rounding floor (their successive
// slopes fall 5.7, 5.5, 5.4, ... towards 5; the same happened on the linear, logistic and
// pericentre-started problems tried), so the bound is [p - 0.15, p + 0.6] for every method. A
// wrong stage or weight in the quadrature lowers the order, which the lower bound catches; the
// local test above pins the order exactly.
TEST_P(QuadratureEveryMethod, QuadratureConvergesAtTheMethodsOrder) {
  const ButcherTableau& tab = *GetParam();
  const double T = 5.0;
  KeplerWithQuadrature sys(0.3);
  const std::vector<double> exact = sys.exact_increment(T);
  const Matrix<double> y0 = sys.y0();
  std::vector<double> h_all, err_all;
  std::string series;
  for (int k = 2; k <= (tab.order <= 2 ? 18 : 16); ++k) {
    const int N = 1 << k;
    SolveOptions opt;
    opt.method = tab.name;
    opt.step_size = T / N;
    std::vector<double> q(3, 0.5);
    SolverWorkspace<double> ws;
    Solution<double> sol;
    const std::vector<double> times = {0.0, T};
    odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 4), std::span<double>(q), times, opt,
                   ws, sol);
    EXPECT_EQ(sol.stats.num_accepted, N);
    double err = 0, qmax = 0;
    for (std::size_t m = 0; m < 3; ++m) {
      err = std::max(err, std::abs(q[m] - 0.5 - exact[m]));
      qmax = std::max(qmax, std::abs(0.5 + exact[m]));
    }
    const double floor = 2.2e-16 * std::sqrt(static_cast<double>(N)) * qmax;
    char buf[64];
    std::snprintf(buf, sizeof buf, "h=%.3g err=%.3g; ", T / N, err);
    series += buf;
    if (err < 1e-2 && err > 20 * floor) h_all.push_back(T / N), err_all.push_back(err);
  }
  const auto keep = static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, h_all.size()));
  const std::vector<double> h(h_all.end() - keep, h_all.end()),
      err(err_all.end() - keep, err_all.end());
  ASSERT_GE(h.size(), 3u) << tab.name << ": " << series;
  const double slope = loglog_slope(h, err);
  EXPECT_GE(slope, tab.order - 0.15) << tab.name << ": " << series;
  EXPECT_LE(slope, tab.order + 0.6) << tab.name << ": " << series;
}

// With fixed steps q is accumulated in place stage by stage (no accumulators): the result must
// still be the augmented state's, for every method, including the time-dependent and nonlinear
// integrands (exact agreement up to summation order: 1e-12 over 40 steps).
TEST_P(QuadratureEveryMethod, FixedStepQuadratureEqualsTheAugmentedState) {
  const ButcherTableau& tab = *GetParam();
  const double omega = 12.0, T = 3.0;
  SolveOptions opt;
  opt.method = tab.name;
  opt.step_size = T / 40;
  DecayWithQuadrature sys(omega);
  const QuadratureResult r = solve_with_quadrature(sys, {0.0, T}, opt);
  DecayAugmented aug(omega);
  Matrix<double> z0(1, 5);
  z0 << 1.0, 0.5, kQ0[0], kQ0[1], kQ0[2];
  const Solution<double> ref = odeint(aug, z0, {0.0, T}, opt);
  EXPECT_EQ(r.sol.stats.nfe, ref.stats.nfe) << tab.name;
  EXPECT_EQ(sys.quadrature_calls, r.sol.stats.nfe) << tab.name;
  for (Index m = 0; m < 3; ++m)
    EXPECT_NEAR(r.q[static_cast<std::size_t>(m)], ref.state(1)(0, 2 + m), 1e-12)
        << tab.name << ", q" << m;
}

// The quadrature is the same computation as augmenting the state: with the quadrature weight 1
// (full norm) or 0 (seminorm, 0 norm weights on the q columns of the augmented state), the solve
// takes exactly the same steps, accepted and rejected, and gives the same y and q up to rounding
// (the quadrature's update sums its stages in another order: a few ulps per step, ~1e-13 here).
// The oscillatory integrand makes the full norm reject steps, so the retry path is exercised.
TEST_P(QuadratureEveryAdaptiveMethod, QuadratureTakesTheStepsOfTheAugmentedState) {
  const ButcherTableau& tab = *GetParam();
  const double omega = 12.0, T = 3.0;
  for (double weight : {1.0, 0.0}) {
    SolveOptions opt;
    opt.method = tab.name;
    opt.rtol = 1e-7;
    opt.atol = 1e-9;
    opt.quadrature_norm_weight = weight;
    DecayWithQuadrature sys(omega);
    const QuadratureResult r = solve_with_quadrature(sys, {0.0, T}, opt);

    DecayAugmented aug(omega);
    Matrix<double> z0(1, 5);
    z0 << 1.0, 0.5, kQ0[0], kQ0[1], kQ0[2];
    SolveOptions aug_opt = opt;
    aug_opt.norm_weights = {1, 1, weight, weight, weight};
    const Solution<double> ref = odeint(aug, z0, {0.0, T}, aug_opt);

    const char* norm = weight > 0 ? "full norm" : "seminorm";
    EXPECT_EQ(r.sol.stats.num_accepted, ref.stats.num_accepted) << tab.name << ", " << norm;
    EXPECT_EQ(r.sol.stats.num_rejected, ref.stats.num_rejected) << tab.name << ", " << norm;
    EXPECT_EQ(r.sol.stats.nfe, ref.stats.nfe) << tab.name << ", " << norm;
    EXPECT_EQ(r.sol.stats.first_step_used, ref.stats.first_step_used) << tab.name << ", " << norm;
    // Every evaluation the solver made also produced dq (none via plain rhs()).
    EXPECT_EQ(sys.quadrature_calls, r.sol.stats.nfe) << tab.name;
    for (Index m = 0; m < 2; ++m)
      EXPECT_NEAR(r.sol.state(1)(0, m), ref.state(1)(0, m), 1e-13) << tab.name << ", " << norm;
    for (Index m = 0; m < 3; ++m)
      EXPECT_NEAR(r.q[static_cast<std::size_t>(m)], ref.state(1)(0, 2 + m), 1e-12)
          << tab.name << ", " << norm << ", q" << m;
    if (weight > 0) {
      EXPECT_GT(r.sol.stats.num_rejected, 0) << tab.name << ": the retry path is not exercised";
    }
  }
}

// Seminorm (Kidger, Chen & Lyons 2021): leaving q out of the norm can only lower it, so it never
// takes more steps; on the oscillatory integrand it takes fewer, and the full norm keeps q at the
// tolerance: global error about 10x the local tolerance atol + rtol |q| ~ 1e-6 (the ODE tests'
// rule of thumb), bounded here by 1e-5.
TEST_P(QuadratureEveryAdaptiveMethod, SeminormNeverTakesMoreStepsThanTheFullNorm) {
  const ButcherTableau& tab = *GetParam();
  const double omega = 12.0, T = 3.0;
  SolveOptions opt;
  opt.method = tab.name;
  opt.rtol = 1e-6;
  opt.atol = 1e-8;
  DecayWithQuadrature full_sys(omega), semi_sys(omega);
  const QuadratureResult full = solve_with_quadrature(full_sys, {0.0, T}, opt);
  opt.quadrature_norm_weight = 0;
  const QuadratureResult semi = solve_with_quadrature(semi_sys, {0.0, T}, opt);
  const auto attempts = [](const SolveStats& s) { return s.num_accepted + s.num_rejected; };
  EXPECT_LE(attempts(semi.sol.stats), attempts(full.sol.stats)) << tab.name;
  EXPECT_LE(semi.sol.stats.nfe, full.sol.stats.nfe) << tab.name;
  EXPECT_LT(semi.sol.stats.nfe, full.sol.stats.nfe)
      << tab.name << ": the oscillatory quadrature should cost the full norm extra steps";
  EXPECT_LT(max_error(full.q, full_sys.exact_increment(T)), 1e-5) << tab.name;
  // y itself is controlled either way.
  EXPECT_NEAR(semi.sol.state(1)(0, 0), std::exp(-T), 1e-5) << tab.name;
}

// Backwards in time (as the adjoint runs), q accumulates the signed integral: q(0) = q(T) -
// int_0^T g dt.
TEST(Quadrature, IntegratesBackwardsInTime) {
  DecayWithQuadrature sys;
  const double T = 2.0;
  std::vector<double> q = kQ0;
  // Start from the exact y(T) and integrate back to 0.
  Matrix<double> yT = DecayWithQuadrature::y0() * std::exp(-T);
  SolverWorkspace<double> ws;
  Solution<double> sol;
  const std::vector<double> times = {T, 0.0};
  SolveOptions opt;
  opt.rtol = 1e-10;
  opt.atol = 1e-12;
  odeint<double>(sys, ConstMatrixView<double>(yT.data(), 1, 2), std::span<double>(q), times, opt,
                 ws, sol);
  const std::vector<double> inc = sys.exact_increment(T);
  for (std::size_t m = 0; m < 3; ++m) EXPECT_NEAR(q[m], kQ0[m] - inc[m], 1e-8) << "q" << m;
}

// A single output time does no work and leaves q as given.
TEST(Quadrature, SingleOutputTimeLeavesQUnchanged) {
  DecayWithQuadrature sys;
  const QuadratureResult r = solve_with_quadrature(sys, {0.5}, {});
  EXPECT_EQ(r.q, kQ0);
  EXPECT_EQ(r.sol.stats.nfe, 0);
}

template <class F>
void expect_invalid(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    for (const char* frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "message '" << e.what() << "' lacks '" << frag << "'";
  }
}

TEST(Quadrature, RejectsMoreThanTwoOutputTimes) {
  DecayWithQuadrature sys;
  expect_invalid(
      [&] {
        solve_with_quadrature(sys, {0.0, 0.5, 1.0}, {});
      },
      {"at most 2 output times", "got 3", "interval by interval"});
}

TEST(Quadrature, RejectsQOfTheWrongSizeAndTheFormWithoutQ) {
  DecayWithQuadrature sys;
  const Matrix<double> y0 = DecayWithQuadrature::y0();
  const ConstMatrixView<double> y0v(y0.data(), 1, 2);
  const std::vector<double> times = {0.0, 1.0};
  SolverWorkspace<double> ws;
  Solution<double> sol;
  std::vector<double> q(2, 0.0);
  expect_invalid([&] { odeint<double>(sys, y0v, std::span<double>(q), times, {}, ws, sol); },
                 {"quadrature of 3 components", "not 2"});
  expect_invalid([&] { odeint<double>(sys, y0v, times, {}, ws, sol); },
                 {"quadrature of 3 components", "not 0"});
  // And a q for a system without a quadrature.
  struct Plain final : System<double> {
    void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override { dy = -y; }
  } plain;
  expect_invalid([&] { odeint<double>(plain, y0v, std::span<double>(q), times, {}, ws, sol); },
                 {"no quadrature"});
}

TEST(Quadrature, RejectsNonFiniteInitialQAndNegativeWeight) {
  DecayWithQuadrature sys;
  const Matrix<double> y0 = DecayWithQuadrature::y0();
  const std::vector<double> times = {0.0, 1.0};
  SolverWorkspace<double> ws;
  Solution<double> sol;
  std::vector<double> q = {0.0, NAN, 0.0};
  expect_invalid(
      [&] {
        odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 2), std::span<double>(q), times,
                       {}, ws, sol);
      },
      {"q has a non-finite value", "component 1"});
  SolveOptions opt;
  opt.quadrature_norm_weight = -1;
  expect_invalid([&] { opt.validate(); }, {"quadrature_norm_weight", ">= 0"});
}

// A NaN in the quadrature fails a fixed-step solve with the time, as one in y does.
TEST(Quadrature, ReportsNanAppearingInTheQuadrature) {
  struct NanAfterOne final : System<double> {
    void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override { dy = -y; }
    Index quadrature_size() const override { return 1; }
    void rhs_with_quadrature(double t, ConstMatrixView<double> y, MatrixView<double> dy,
                             std::span<double> dq) override {
      dy = -y;
      dq[0] = t > 1.0 ? NAN : 1.0;
    }
  } sys;
  Matrix<double> y0(1, 1);
  y0 << 1.0;
  std::vector<double> q = {0.0};
  const std::vector<double> times = {0.0, 2.0};
  SolverWorkspace<double> ws;
  Solution<double> sol;
  SolveOptions opt;
  opt.method = "rk4";
  opt.step_size = 0.25;
  EXPECT_THROW(odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 1), std::span<double>(q),
                              times, opt, ws, sol),
               SolveError);
}

// The quadrature's buffers are sized once: a second solve with the same workspace allocates
// nothing, fixed-step and adaptive, full norm and seminorm. And the workspace reports them.
TEST(Quadrature, SecondSolveWithSameWorkspaceDoesNotAllocate) {
  if (!testing::alloc_count::is_live()) GTEST_SKIP() << "allocation counter not live";
  struct Case {
    const char* method;
    double weight;
    Index q_buffers;  // dq; + dq1, acc_b adaptive; + acc_e with the full norm
  };
  for (const Case c : {Case{"rk4", 1.0, 1}, Case{"dopri5", 0.0, 3}, Case{"dopri5", 1.0, 4},
                       Case{"bosh3", 1.0, 4}}) {
    DecayWithQuadrature sys(5.0);
    const Matrix<double> y0 = DecayWithQuadrature::y0();
    const ConstMatrixView<double> y0v(y0.data(), 1, 2);
    const std::vector<double> times = {0.0, 2.0};
    SolveOptions opt;
    opt.method = c.method;
    opt.quadrature_norm_weight = c.weight;
    if (!find_method(c.method).adaptive()) opt.step_size = 0.1;
    SolverWorkspace<double> ws;
    Solution<double> sol;
    std::vector<double> q = kQ0;
    odeint<double>(sys, y0v, std::span<double>(q), times, opt, ws, sol);
    const long allocations = testing::alloc_count::count(
        [&] { odeint<double>(sys, y0v, std::span<double>(q), times, opt, ws, sol); });
    EXPECT_EQ(allocations, 0) << c.method << " weight " << c.weight;
    EXPECT_GT(sol.stats.num_accepted, 5) << c.method;
    EXPECT_EQ(ws.dq.size() + ws.dq1.size() + ws.acc_b.size() + ws.acc_e.size(), 3 * c.q_buffers)
        << c.method << " weight " << c.weight;
  }
}

}  // namespace
}  // namespace neuralode::ode
