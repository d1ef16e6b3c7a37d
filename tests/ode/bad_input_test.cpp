// Bad input to odeint and SolveOptions (issue 21): every class of it is refused with the right
// exception, before any work where it can be known up front, and with a message that names the
// value and what is accepted. Runs that used to hang (tolerances below rounding, 1e300-long
// intervals, 1e-300 fixed steps) must now end at once; a hang shows up as the test's timeout.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/ode.hpp"
#include "support/expect_error.hpp"

using neuralode::test_support::expect_error;
using neuralode::test_support::message_of;

namespace neuralode::ode {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <class Scalar = double>
Matrix<Scalar> row(std::initializer_list<double> v) {
  Matrix<Scalar> m(1, static_cast<Index>(v.size()));
  Index i = 0;
  for (double x : v) m(0, i++) = static_cast<Scalar>(x);
  return m;
}

auto decay = [](double, ConstMatrixView<double> y, MatrixView<double> dy) { dy = -y; };

// Solves decay on [0, 1] from y0 = (1, 2) with `opt`.
void solve_with(const SolveOptions& opt, std::vector<double> times = {0.0, 1.0}) {
  odeint(decay, row({1.0, 2.0}), times, opt);
}

// ---- Class 1: requests that used to run towards the 2^31-step cap ----

TEST(OdeintBadInput, RefusesTolerancesBelowTheUnitRoundoffOfDouble) {
  expect_error<InvalidArgument>([] { solve_with({.rtol = 1e-300, .atol = 1e-300}); },
                                {"rtol = 1e-300", "atol = 1e-300", "unit roundoff of double",
                                 "eps = 2.22045e-16", "accepted: rtol >= 1.11022e-16"});
  // A per-component atol below u counts as well.
  SolveOptions opt{.rtol = 1e-20};
  opt.atol_per_component = {1e-6, 1e-300};
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"rtol = 1e-20", "atol = 1e-300"});
}

TEST(OdeintBadInput, RefusesTolerancesBelowTheUnitRoundoffOfFloatButAcceptsTorchdiffeqDefaults) {
  auto f = [](float, ConstMatrixView<float> y, MatrixView<float> dy) { dy = -y; };
  const Matrix<float> y0 = row<float>({1.0});
  expect_error<InvalidArgument>(
      [&] {
        odeint(f, y0, {0.0f, 1.0f}, {.rtol = 1e-8, .atol = 1e-9});
      },
      {"unit roundoff of float", "accepted: rtol >= 5.96046e-08"});
  // rtol = 1e-7, atol = 1e-9 (torchdiffeq's defaults) is 0.84 eps of float: accepted.
  const Solution<float> sol = odeint(f, y0, {0.0f, 1.0f}, SolveOptions{});
  EXPECT_NEAR(sol.state(1)(0, 0), std::exp(-1.0f), 1e-5f);
}

TEST(OdeintBadInput, AcceptsATinyRtolWithAUsableAtol) {
  // Pure absolute control: not below what double resolves.
  const Solution<double> sol = odeint(decay, row({1.0}), {0.0, 1.0}, {.rtol = 1e-20, .atol = 1e-9});
  EXPECT_NEAR(sol.state(1)(0, 0), std::exp(-1.0), 1e-7);
}

TEST(OdeintBadInput, RefusesAFixedStepSolveThatNeedsMoreThanMaxNumStepsBeforeTheFirstStep) {
  int evaluations = 0;
  auto counted = [&](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    ++evaluations;
    dy = -y;
  };
  expect_error<InvalidArgument>(
      [&] {
        odeint(counted, row({1.0}), {0.0, 1.0}, {.method = "rk4", .step_size = 1e-300});
      },
      {"would take 1e+300 steps", "step_size = 1e-300", "max_num_steps = 1000000",
       "raise max_num_steps"});
  // Overflowing |t1 - t0| / step_size is still refused, not cast to a negative count.
  expect_error<InvalidArgument>(
      [&] {
        odeint(counted, row({1.0}), {0.0, 1e300}, {.method = "rk4", .step_size = 1e-300});
      },
      {"would take over 1.8e+308 steps"});
  // Exactly at the cap is accepted; one more is refused.
  SolveOptions opt{.method = "euler", .step_size = 0.25};
  opt.max_num_steps = 4;
  odeint(counted, row({1.0}), {0.0, 1.0}, opt);
  opt.step_size = 0.2;
  expect_error<InvalidArgument>(
      [&] {
        odeint(counted, row({1.0}), {0.0, 1.0}, opt);
      },
      {"would take 5 steps", "max_num_steps = 4"});
  // A grid and output times of a fixed-step method are counted too.
  opt.step_size = 0;
  opt.grid = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2};
  expect_error<InvalidArgument>(
      [&] {
        odeint(counted, row({1.0}), {0.0, 1.0}, opt);
      },
      {"would take 5 steps", "grid"});
  opt.grid.clear();
  expect_error<InvalidArgument>(
      [&] {
        odeint(counted, row({1.0}), {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}, opt);
      },
      {"would take 5 steps", "output interval"});
  EXPECT_EQ(evaluations, 4) << "refused solves must not evaluate f (the accepted one took 4)";
}

TEST(OdeintBadInput, RefusesAFixedStepBelowTheResolutionOfTheTimeAxis) {
  // At t = 1e20 the doubles are 16384 apart: t0 + k h would make steps of 0 or 16384.
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {1e20, 1e20 + 1e7}, {.method = "rk4", .step_size = 1e5});
      },
      {"step_size = 100000 is below 16*eps*max(|t0|, |t1|)", "accepted: step_size >="});
}

TEST(OdeintBadInput, AnIntervalOf1e300EndsQuicklyWithAStepSizeUnderflow) {
  // Used to take ~1e300 / h steps towards the 2^31 cap; now the steps stay below
  // 16 eps |t1 - t0| and the solve stops after 100 of them.
  auto oscillator = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy(0, 0) = y(0, 1);
    dy(0, 1) = -y(0, 0);
  };
  expect_error<SolveError>(
      [&] {
        odeint(oscillator, row({1.0, 0.0}), {0.0, 1e300});
      },
      {"step size underflow", "16*eps*|t1 - t0|", "100 attempts in a row", "shorten the interval"});
}

TEST(OdeintBadInput, StepSizeUnderflowFiresNearTZero) {
  // A singularity at t = 1e-30: 16 eps |t| is ~1e-45 there, so the steps could creep on towards
  // it for ever; the span test ends the solve.
  auto singular = [](double t, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = y * (1.0 / (std::abs(t - 1e-30) + 1e-300));
  };
  expect_error<SolveError>(
      [&] {
        odeint(singular, row({1.0}), {0.0, 1.0});
      },
      {"step size underflow", "16*eps*|t"});
}

TEST(OdeintBadInput, DefaultMaxNumStepsEndsARunawayAdaptiveSolve) {
  EXPECT_EQ(SolveOptions{}.max_num_steps, 1'000'000);
  // A fast oscillation over a long interval at tight tolerance: ~1e8 steps wanted.
  auto fast = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy(0, 0) = 1e3 * y(0, 1);
    dy(0, 1) = -1e3 * y(0, 0);
  };
  SolveOptions opt{.method = "heun_euler", .rtol = 1e-10, .atol = 1e-10};
  opt.max_num_steps = 2000;  // the default's behaviour, at a test's size
  expect_error<SolveError>(
      [&] {
        odeint(fast, row({1.0, 0.0}), {0.0, 1e4}, opt);
      },
      {"max_num_steps = 2000 reached at t = ", "h = ", "accepted",
       "raise max_num_steps (--max-steps)"});
}

// ---- Class 2: NaN/Inf in inputs, options and the right-hand side ----

TEST(OdeintBadInput, RefusesNonFiniteInitialValuesAndTimes) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0, kNan}), {0.0, 1.0});
      },
      {"y0 has a non-finite value nan", "component 1"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({kInf}), {0.0, 1.0});
      },
      {"y0 has a non-finite value inf"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, kNan});
      },
      {"times[1] = nan is not finite"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {-kInf, 0.0});
      },
      {"times[0] = -inf is not finite"});
}

TEST(OdeintBadInput, RefusesAnIntervalWhoseLengthOverflows) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {-1e308, 1e308});
      },
      {"t1 - t0 overflows", "accepted: |t1 - t0| <="});
  auto f = [](float, ConstMatrixView<float> y, MatrixView<float> dy) { dy = -y; };
  expect_error<InvalidArgument>(
      [&] {
        odeint(f, row<float>({1.0}), {-3e38f, 3e38f});
      },
      {"longer than float can hold"});
}

TEST(OdeintBadInput, RefusesNonFiniteOptions) {
  for (double bad : {kNan, kInf, -kInf}) {
    EXPECT_THROW(solve_with({.rtol = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.atol = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.step_size = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.first_step = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.safety = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.ifactor = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.dfactor = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.min_step = bad}), InvalidArgument) << bad;
    EXPECT_THROW(solve_with({.pi_beta = bad}), InvalidArgument) << bad;
    SolveOptions opt;
    opt.quadrature_norm_weight = bad;
    EXPECT_THROW(solve_with(opt), InvalidArgument) << bad;
    opt = {};
    opt.atol_per_component = {1e-6, bad};
    expect_error<InvalidArgument>([&] { solve_with(opt); },
                                  {"atol_per_component[1] = ", "accepted: a finite number > 0"});
    opt = {};
    opt.norm_weights = {bad, 1.0};
    expect_error<InvalidArgument>([&] { solve_with(opt); },
                                  {"norm_weights[0] = ", "accepted: a finite number >= 0"});
    opt = {.method = "rk4"};
    opt.grid = {0.0, bad, 1.0};
    expect_error<InvalidArgument>([&] { solve_with(opt); }, {"grid[1] = ", "is not finite"});
  }
  expect_error<InvalidArgument>([] { solve_with({.max_step = kNan}); },
                                {"max_step = nan", "accepted: a number > 0"});
  expect_error<InvalidArgument>([] { solve_with({.rtol = kNan}); },
                                {"rtol = nan is out of range", "accepted: a finite number > 0"});
}

TEST(OdeintBadInput, ARightHandSideThatIsNanAtTheStartFailsAtOnceNamingTheDerivative) {
  int evaluations = 0;
  auto nan_field = [&](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    ++evaluations;
    dy = y * kNan;  // NaN parameters: f is NaN wherever it is evaluated
  };
  // Used to shrink the step down to an underflow "at t = 0".
  expect_error<SolveError>(
      [&] {
        odeint(nan_field, row({1.0}), {0.0, 1.0});
      },
      {"right-hand side returned NaN/Inf at t = 0", "dy/dt = nan", "the state there is finite",
       "NaN/Inf parameters"});
  EXPECT_LE(evaluations, 10) << "no step-size search for a derivative that is NaN at any step";
  expect_error<SolveError>(
      [&] {
        odeint(nan_field, row({1.0}), {0.0, 1.0}, {.method = "rk4", .step_size = 0.1});
      },
      {"NaN/Inf appeared in the state at t = 0", "right-hand side returned dy/dt = nan at stage 1",
       "the derivative is not finite there"});
}

TEST(OdeintBadInput, ARightHandSideThatTurnsNanLaterIsReportedWithTAndH) {
  auto poisoned = [](double t, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = -y;
    if (t > 0.5) dy(0, 0) = std::numeric_limits<double>::infinity();
  };
  expect_error<SolveError>(
      [&] {
        odeint(poisoned, row({1.0}), {0.0, 1.0});
      },
      {"at t = 0.5", "h = ", "every attempt since the last accepted step", "not finite"});
  expect_error<SolveError>(
      [&] {
        odeint(poisoned, row({1.0}), {0.0, 1.0}, {.method = "rk4", .step_size = 0.1});
      },
      {"at t = 0.5", "step h = 0.1", "dy/dt = inf at stage 2 (t = 0.55)"});
}

TEST(OdeintBadInput, AQuadratureWhoseDerivativeIsNanIsNamed) {
  struct NanQuadrature final : System<double> {
    void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override { dy = -y; }
    Index quadrature_size() const override { return 1; }
    void rhs_with_quadrature(double t, ConstMatrixView<double> y, MatrixView<double> dy,
                             std::span<double> dq) override {
      rhs(t, y, dy);
      dq[0] = kNan;
    }
  } sys;
  const Matrix<double> y0 = row({1.0});
  std::vector<double> q = {0.0};
  const std::vector<double> times = {0.0, 1.0};
  SolverWorkspace<double> ws;
  Solution<double> out;
  expect_error<SolveError>(
      [&] {
        odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 1), std::span<double>(q),
                       std::span<const double>(times), SolveOptions{}, ws, out);
      },
      {"quadrature's derivative is NaN/Inf at t = 0", "dq/dt = nan"});
  q = {kNan};
  expect_error<InvalidArgument>(
      [&] {
        odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 1), std::span<double>(q),
                       std::span<const double>(times), SolveOptions{}, ws, out);
      },
      {"q has a non-finite value nan"});
}

// ---- Class 3: inconsistent combinations, out-of-range values ----

TEST(OdeintBadInput, RefusesAllZeroNormWeights) {
  SolveOptions opt;
  opt.norm_weights = {0.0, 0.0};
  expect_error<InvalidArgument>([&] { solve_with(opt); },
                                {"norm_weights are all 0", "switches error control off",
                                 "accepted: at least one weight > 0", "step_size"});
  // One weight left is a seminorm, not "off"; fixed steps have no norm to switch off.
  opt.norm_weights = {0.0, 1.0};
  solve_with(opt);
  opt.norm_weights = {0.0, 0.0};
  opt.method = "rk4";
  solve_with(opt);
}

TEST(OdeintBadInput, RefusesAGridTogetherWithAStepSize) {
  SolveOptions opt{.method = "rk4", .step_size = 0.1};
  opt.grid = {0.0, 0.5, 1.0};
  expect_error<InvalidArgument>(
      [&] { solve_with(opt); },
      {"grid (3 points) and step_size = 0.1 are both set", "accepted: one of them"});
}

TEST(OdeintBadInput, RefusesAFirstStepThatCannotBeUsed) {
  // Larger than the interval (as scipy's solve_ivp refuses it).
  expect_error<InvalidArgument>(
      [] { solve_with({.first_step = 2.0}); },
      {"first_step = 2 exceeds the interval", "accepted: first_step in (0, 1]"});
  // Negative: a magnitude, the times give the direction.
  expect_error<InvalidArgument>([] { solve_with({.first_step = -0.1}); },
                                {"first_step = -0.1", "a magnitude"});
  // With fixed steps it would be ignored.
  expect_error<InvalidArgument>([] { solve_with({.method = "rk4", .first_step = 0.1}); },
                                {"first_step = 0.1 has no effect on a fixed-step solve", "rk4"});
  expect_error<InvalidArgument>([] { solve_with({.step_size = 0.1, .first_step = 0.1}); },
                                {"has no effect on a fixed-step solve", "step_size = 0.1 is set"});
  // Outside [min_step, max_step] it would be clamped without a word.
  expect_error<InvalidArgument>([] { solve_with({.first_step = 0.5, .max_step = 0.1}); },
                                {"first_step = 0.5 lies outside [min_step, max_step]"});
  expect_error<InvalidArgument>([] { solve_with({.first_step = 1e-4, .min_step = 1e-3}); },
                                {"lies outside [min_step, max_step]"});
  // So small that the interval would take over 10^14 steps (it used to creep on near t = 0).
  expect_error<InvalidArgument>([] { solve_with({.first_step = 1e-300}); },
                                {"first_step = 1e-300 is below 16*eps*|t1 - t0|"});
  expect_error<InvalidArgument>([] { solve_with({.max_step = 1e-16}); },
                                {"max_step = 1e-16 is below 16*eps*|t1 - t0|"});
  // Running backwards, the same magnitude is fine.
  solve_with({.first_step = 0.5}, {1.0, 0.0});
}

TEST(OdeintBadInput, RefusesOutOfRangeControllerSettings) {
  expect_error<InvalidArgument>([] { solve_with({.safety = 0}); },
                                {"safety = 0 is out of range", "accepted: (0, 1]"});
  expect_error<InvalidArgument>([] { solve_with({.safety = 1.5}); }, {"safety = 1.5"});
  expect_error<InvalidArgument>([] { solve_with({.ifactor = 0.5}); },
                                {"ifactor = 0.5", "accepted: a finite number >= 1"});
  // dfactor = 1: a rejected step would not shrink, and the solve would repeat it for ever.
  expect_error<InvalidArgument>([] { solve_with({.dfactor = 1.0}); },
                                {"dfactor = 1 is out of range", "accepted: (0, 1)"});
  expect_error<InvalidArgument>([] { solve_with({.min_step = -1}); }, {"min_step = -1"});
  expect_error<InvalidArgument>([] { solve_with({.max_step = 0}); }, {"max_step = 0"});
  expect_error<InvalidArgument>([] { solve_with({.min_step = 0.5, .max_step = 0.1}); },
                                {"min_step = 0.5 exceeds max_step = 0.1"});
  expect_error<InvalidArgument>([] { solve_with({.pi_beta = 0.3}); },
                                {"pi_beta = 0.3", "accepted: [0, 0.2)"});
  SolveOptions opt;
  opt.max_num_steps = 0;
  expect_error<InvalidArgument>([&] { solve_with(opt); },
                                {"max_num_steps = 0", "accepted: an integer >= 1"});
  opt = {};
  opt.controller = static_cast<Controller>(7);
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"controller = 7"});
  expect_error<InvalidArgument>([] { parse_controller("p"); }, {"'p'", "accepted: i, pi, pid"});
  EXPECT_EQ(parse_controller("pid"), Controller::pid);
  EXPECT_EQ(to_string(Controller::pid), "pid");
  // The PID coefficients: finite, and an integral term (icoeff > 0) for the step to follow the
  // error; checked whatever the controller, so a bad value never waits for a switch to pid.
  const double inf = std::numeric_limits<double>::infinity();
  opt = {};
  opt.controller = Controller::pid;
  opt.pcoeff = inf;
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"pcoeff = inf is not finite"});
  opt.pcoeff = 0;
  opt.dcoeff = -inf;
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"dcoeff = -inf is not finite"});
  opt.dcoeff = 0;
  opt.icoeff = inf;
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"icoeff = inf is not finite"});
  opt = {};
  opt.icoeff = 0;
  expect_error<InvalidArgument>([&] { solve_with(opt); },
                                {"icoeff = 0 is out of range", "accepted: a finite number > 0"});
  expect_error<InvalidArgument>([] { solve_with({.rtol = -1e-6}); },
                                {"rtol = -1e-06 is out of range"});
  expect_error<InvalidArgument>([] { solve_with({.atol = 0}); }, {"atol = 0 is out of range"});
  expect_error<InvalidArgument>([] { solve_with({.step_size = -0.1}); },
                                {"step_size = -0.1 is out of range"});
}

TEST(OdeintBadInput, RefusesPerComponentVectorsOfTheWrongSize) {
  // y0 is 2 x 3 here: dim = 3, batch*dim = 6.
  Matrix<double> y0 = Matrix<double>::Ones(2, 3);
  SolveOptions opt;
  opt.norm_weights = {1.0, 1.0};
  expect_error<InvalidArgument>(
      [&] {
        odeint(decay, y0, {0.0, 1.0}, opt);
      },
      {"norm_weights has 2 entries", "dim = 3", "batch*dim = 6"});
  opt.norm_weights.assign(6, 1.0);
  odeint(decay, y0, {0.0, 1.0}, opt);
  opt = {};
  opt.atol_per_component.assign(4, 1e-9);
  expect_error<InvalidArgument>(
      [&] {
        odeint(decay, y0, {0.0, 1.0}, opt);
      },
      {"atol_per_component has 4 entries"});
}

TEST(OdeintBadInput, RefusesBadTimeLists) {
  expect_error<InvalidArgument>([] { odeint(decay, row({1.0}), std::vector<double>{}); },
                                {"times is empty", "accepted: at least one time"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 0.5, 0.5});
      },
      {"times[2] = 0.5 equals times[1]"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 0.5, 0.2});
      },
      {"strictly increasing", "times[2] = 0.2 after times[1] = 0.5"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {1.0, 0.5, 0.7});
      },
      {"strictly decreasing"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, Matrix<double>(0, 2), {0.0, 1.0});
      },
      {"y0 is 0 x 2", "accepted: batch >= 1"});
}

TEST(OdeintBadInput, RefusesBadGrids) {
  SolveOptions opt{.method = "rk4"};
  opt.grid = {0.0};
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"grid has 1 point"});
  opt.grid = {0.0, 0.5, 0.5, 1.0};
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"grid must be strictly monotone"});
  opt.grid = {0.0, 0.5, 0.9};
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"grid must start at times[0] = 0"});
  opt.grid = {0.1, 0.5, 1.0};
  expect_error<InvalidArgument>([&] { solve_with(opt); }, {"grid must start"});
  // Distinct doubles that are the same float would make a step of 0 (dense output divides by h).
  auto f = [](float, ConstMatrixView<float> y, MatrixView<float> dy) { dy = -y; };
  opt.grid = {0.0, 0.5, 0.5 + 1e-12, 1.0};
  expect_error<InvalidArgument>(
      [&] {
        odeint(f, row<float>({1.0}), {0.0f, 1.0f}, opt);
      },
      {"grid[2] = 0.5 and grid[1] = 0.5 are the same float"});
}

TEST(OdeintBadInput, UnknownMethodListsTheRegisteredNames) {
  const std::string m = message_of<InvalidArgument>([] { solve_with({.method = "rk45"}); });
  EXPECT_NE(m.find("unknown method 'rk45'"), std::string::npos) << m;
  for (const ButcherTableau* t : all_methods())
    EXPECT_NE(m.find(t->name), std::string::npos) << t->name << " missing in " << m;
}

TEST(SolveOptionsBadInput, ValidateNeedsNoSolveAndUsesTheGivenEpsilon) {
  SolveOptions opt{.rtol = 1e-10, .atol = 1e-12};
  opt.validate();  // fine in double
  expect_error<InvalidArgument>(
      [&] { opt.validate(0, 0, static_cast<double>(std::numeric_limits<float>::epsilon())); },
      {"SolveOptions: rtol = 1e-10 and atol = 1e-12", "unit roundoff of float"});
}

}  // namespace
}  // namespace neuralode::ode
