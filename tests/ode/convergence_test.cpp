// Convergence orders of every registered method, measured as numerical analysts do: the slope of
// log(error) against log(h) on a problem with a closed-form solution.
// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's vectorised reductions inline them; nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "neuralode/ode.hpp"
#include "ode/every_method.hpp"
#include "ode/test_systems.hpp"

namespace neuralode::ode {
namespace {

using testing::adaptive_methods;
using testing::LinearSystem;
using testing::loglog_slope;
using testing::method_name;

struct Series {
  std::vector<double> h, err;
};

// The asymptotic regime of a series ordered by decreasing h: errors below 1e-2 (no method is
// asymptotic above) and 20x above the rounding floor. Rounding errors of N steps accumulate like a
// random walk, about eps * sqrt(N) * max|y| (Henrici's statistical model); `floors` gives that
// estimate per point. Of the points in between, the last `count` are kept: high-order pairs such as
// tsit5 are tuned to make the leading error term small, so their larger steps are not yet
// asymptotic and would bias the slope upwards.
Series asymptotic_tail(const Series& all, const std::vector<double>& floors,
                       std::size_t count = 3) {
  Series kept;
  for (std::size_t i = 0; i < all.h.size(); ++i)
    if (all.err[i] < 1e-2 && all.err[i] > 20 * floors[i]) {
      kept.h.push_back(all.h[i]);
      kept.err.push_back(all.err[i]);
    }
  if (kept.h.size() > count) {
    kept.h.erase(kept.h.begin(), kept.h.end() - static_cast<std::ptrdiff_t>(count));
    kept.err.erase(kept.err.begin(), kept.err.end() - static_cast<std::ptrdiff_t>(count));
  }
  return kept;
}

// "h=0.5 err=1e-3; ..." for failure messages.
std::string describe(const Series& s) {
  std::string out;
  char buf[64];
  for (std::size_t i = 0; i < s.h.size(); ++i) {
    std::snprintf(buf, sizeof buf, "h=%.3g err=%.3g; ", s.h[i], s.err[i]);
    out += buf;
  }
  return out;
}

// Fixed-step solves of the linear problem over [0, T] with N = 2^k steps; keeps the points whose
// error lies in the asymptotic window. `outputs_inside` puts the output times between grid
// points so that every output comes from dense output.
Series fixed_step_series(const ButcherTableau& tab, double T, bool backwards, bool dense_only) {
  LinearSystem sys;
  // Backwards in time we solve y' = -A y from T to 0: the time-reversed twin of the forward
  // problem, so both directions run the same dynamics and are held to the same accuracy.
  if (backwards) sys.sign = -1.0;
  Matrix<double> y0 = sys.y0.transpose();
  const double t0 = backwards ? T : 0.0, t1 = backwards ? 0.0 : T;
  Series s;
  std::vector<double> floors;
  for (int k = 3; k <= (tab.order <= 2 ? 18 : 16); ++k) {
    const int N = 1 << k;
    const double h = T / N;
    SolveOptions opt;
    opt.method = tab.name;
    opt.step_size = h;
    std::vector<double> times;
    if (dense_only) {
      // Output at 0.37 of every 4th step: never at a grid point, so Hermite/own interpolation is
      // used.
      times.push_back(t0);
      for (int i = 0; i + 1 < N; i += 4)
        times.push_back(t0 + (backwards ? -1 : 1) * (i + 0.37) * h);
    } else {
      times = {t0, t1};
    }
    Solution<double> sol = odeint(sys, y0, times, opt);
    double err = 0, ymax = 1;
    for (Index i = 1; i < sol.num_times(); ++i) {
      const Eigen::VectorXd exact = sys.exact(times[i], t0);
      err = std::max(err, (sol.state(i).transpose() - exact).cwiseAbs().maxCoeff());
      ymax = std::max(ymax, exact.cwiseAbs().maxCoeff());
    }
    s.h.push_back(h);
    s.err.push_back(err);
    floors.push_back(2.2e-16 * std::sqrt(static_cast<double>(N)) * ymax);
  }
  if (std::getenv("NEURALODE_DEBUG_SERIES"))
    std::printf("%s %s: %s\n", tab.name.c_str(), backwards ? "bwd" : "fwd", describe(s).c_str());
  return asymptotic_tail(s, floors);
}

// Long enough that errors sit well above rounding for every method at the step sizes used.
constexpr double kHorizon = 10.0;

class EveryMethod : public ::testing::TestWithParam<const ButcherTableau*> {};

INSTANTIATE_TEST_SUITE_P(Registry, EveryMethod,
                         ::testing::ValuesIn(all_methods().begin(), all_methods().end()),
                         method_name);

class EveryAdaptiveMethod : public ::testing::TestWithParam<const ButcherTableau*> {};
INSTANTIATE_TEST_SUITE_P(Registry, EveryAdaptiveMethod, ::testing::ValuesIn(adaptive_methods()),
                         method_name);

// The acceptance bound: slope within +-0.15 of the order.
constexpr double kSlopeTolerance = 0.15;

TEST_P(EveryMethod, GlobalErrorConvergesAtTheMethodsOrder) {
  const ButcherTableau& tab = *GetParam();
  const Series s = fixed_step_series(tab, kHorizon, false, false);
  ASSERT_GE(s.h.size(), 3u) << "too few points in the asymptotic window for " << tab.name;
  EXPECT_NEAR(loglog_slope(s.h, s.err), tab.order, kSlopeTolerance)
      << tab.name << ": " << describe(s);
}

TEST_P(EveryMethod, ConvergesAtTheSameOrderBackwardsInTime) {
  const ButcherTableau& tab = *GetParam();
  const Series s = fixed_step_series(tab, kHorizon, true, false);
  ASSERT_GE(s.h.size(), 3u);
  EXPECT_NEAR(loglog_slope(s.h, s.err), tab.order, kSlopeTolerance)
      << tab.name << ": " << describe(s);
}

// Dense output error = global error at the step start, O(h^p), plus the interpolant's local
// error, O(h^(d+1)) for an interpolant of order d; the slope is min(p, d + 1).
TEST_P(EveryMethod, DenseOutputConvergesAtTheInterpolantsOrder) {
  const ButcherTableau& tab = *GetParam();
  const double expected = std::min(tab.order, tab.dense_order + 1);
  for (bool backwards : {false, true}) {
    const Series s = fixed_step_series(tab, kHorizon, backwards, true);
    ASSERT_GE(s.h.size(), 3u);
    EXPECT_NEAR(loglog_slope(s.h, s.err), expected, kSlopeTolerance)
        << tab.name << (backwards ? " backwards: " : " forwards: ") << describe(s);
  }
}

// One step of the tableau written out independently of odeint, returning y_new and y_embed.
void one_step(const ButcherTableau& tab, const LinearSystem& sys, double h, Eigen::VectorXd& y_new,
              Eigen::VectorXd& y_emb) {
  const int s = tab.stages;
  std::vector<Eigen::VectorXd> k(s);
  for (int i = 0; i < s; ++i) {
    Eigen::VectorXd yi = sys.y0;
    for (int j = 0; j < i; ++j) yi += h * tab.a_at(i, j) * k[j];
    k[i] = sys.A * yi;
  }
  y_new = sys.y0;
  y_emb = sys.y0;
  for (int i = 0; i < s; ++i) {
    y_new += h * tab.b[i] * k[i];
    y_emb += h * tab.bhat[i] * k[i];
  }
}

// The embedded solution of order q has local error O(h^(q+1)), and so has the error estimate
// y_new - y_embed (the propagated solution's local error is of higher order).
TEST_P(EveryAdaptiveMethod, EmbeddedEstimateHasLocalOrderQPlusOne) {
  const ButcherTableau& tab = *GetParam();
  LinearSystem sys;
  Series local_all, estimate_all;
  for (int k = 0; k < 40; ++k) {
    const double h = 0.5 * std::pow(2.0, -0.5 * k);
    Eigen::VectorXd y_new, y_emb;
    one_step(tab, sys, h, y_new, y_emb);
    local_all.h.push_back(h);
    local_all.err.push_back((y_emb - sys.exact(h)).cwiseAbs().maxCoeff());
    estimate_all.h.push_back(h);
    estimate_all.err.push_back((y_new - y_emb).cwiseAbs().maxCoeff());
  }
  // One step each: the rounding floor is that of a single step.
  const std::vector<double> one(local_all.h.size(), 2.2e-16 * sys.y0.cwiseAbs().maxCoeff());
  const Series local = asymptotic_tail(local_all, one),
               estimate = asymptotic_tail(estimate_all, one);
  ASSERT_GE(local.h.size(), 3u);
  ASSERT_GE(estimate.h.size(), 3u);
  EXPECT_NEAR(loglog_slope(local.h, local.err), tab.embedded_order + 1, kSlopeTolerance)
      << tab.name;
  EXPECT_NEAR(loglog_slope(estimate.h, estimate.err), tab.embedded_order + 1, kSlopeTolerance)
      << tab.name;
}

// Adaptive methods: the global error follows the tolerance (tolerance proportionality) and stays
// within a small multiple of it.
TEST_P(EveryAdaptiveMethod, GlobalErrorIsProportionalToTheTolerance) {
  const ButcherTableau& tab = *GetParam();
  LinearSystem sys;
  Matrix<double> y0 = sys.y0.transpose();
  const Eigen::VectorXd exact = sys.exact(5.0);
  // Low-order pairs need very many steps at tight tolerances; stop where a solve would exceed
  // 1e5 steps so the test stays fast.
  const double tightest = tab.order <= 2 ? 1e-7 : 1e-10;
  Series s;
  double worst_ratio = 0;
  for (double tol = 1e-4; tol >= tightest * 0.99; tol /= 10) {
    SolveOptions opt;
    opt.method = tab.name;
    opt.rtol = opt.atol = tol;
    Solution<double> sol = odeint(sys, y0, {0.0, 5.0}, opt);
    const double err = (sol.state(1).transpose() - exact).cwiseAbs().maxCoeff();
    s.h.push_back(tol);
    s.err.push_back(err);
    worst_ratio = std::max(worst_ratio, err / tol);
  }
  // Local error control does not bound the global error exactly: on this contractive problem the
  // global error is a sum of local errors damped by the flow, each about tol per unit step. Over
  // [0, 5] with tolerance-proportional methods a ratio below 20 is the usual figure; we allow 50.
  EXPECT_LT(worst_ratio, 50.0) << tab.name;
  // Tolerance proportionality: error ~ tol^(p/(q+1)) for error-per-step control; the exponent is
  // between 0.8 and 1.25 for every pair here (p/(q+1) = 5/5 for dopri5, 3/3 for bosh3, 2/2 for
  // heun_euler, 8/6 for dopri8's 8(5) pair).
  const double slope = loglog_slope(s.h, s.err);
  EXPECT_GT(slope, 0.75) << tab.name;
  EXPECT_LT(slope, 1.45) << tab.name;
}

}  // namespace
}  // namespace neuralode::ode
