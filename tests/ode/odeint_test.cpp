// odeint's contract: input checks, statistics, batches, float, the observer, no allocation.
// GCC 12 pairs the replaced operator new with the sized delete below and warns (falsely): both
// use malloc/free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// GCC 12 reports false "used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's vectorised reductions inline them; nothing is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "neuralode/ode.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>

#include "ode/test_systems.hpp"
#include "support/expect_error.hpp"

using neuralode::test_support::expect_error;

// Counting allocator: every global new while `g_counting` is set bumps `g_allocations`.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace neuralode::ode {
namespace {

using testing::LinearSystem;

Matrix<double> row(std::initializer_list<double> v) {
  Matrix<double> m(1, static_cast<Index>(v.size()));
  Index i = 0;
  for (double x : v) m(0, i++) = x;
  return m;
}

auto decay = [](double, ConstMatrixView<double> y, MatrixView<double> dy) { dy = -y; };

TEST(SolveOptions, DefaultsAreValidAndMatchTorchdiffeq) {
  SolveOptions opt;
  EXPECT_NO_THROW(opt.validate());
  EXPECT_EQ(opt.method, "dopri5");
  EXPECT_EQ(opt.rtol, 1e-7);
  EXPECT_EQ(opt.atol, 1e-9);
  EXPECT_EQ(opt.safety, 0.9);
  EXPECT_EQ(opt.ifactor, 10.0);
  EXPECT_EQ(opt.dfactor, 0.2);
}

TEST(Odeint, RejectsRepeatedTimes) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 0.5, 0.5});
      },
      {"times[2] = 0.5 equals times[1]"});
}

TEST(Odeint, RejectsNonMonotoneTimes) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 1.0, 0.5});
      },
      {"strictly increasing", "times[2] = 0.5"});
}

TEST(Odeint, RejectsEmptyTimes) {
  expect_error<InvalidArgument>([] { odeint(decay, row({1.0}), std::vector<double>{}); },
                                {"times is empty"});
}

TEST(Odeint, RejectsNonFiniteInitialState) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0, std::numeric_limits<double>::quiet_NaN()}), {0.0, 1.0});
      },
      {"y0", "component 1"});
}

TEST(Odeint, RejectsNonPositiveTolerances) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 1.0}, {.rtol = 0});
      },
      {"rtol = 0"});
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 1.0}, {.atol = -1e-9});
      },
      {"atol = -1e-09"});
}

TEST(Odeint, RejectsUnknownMethodListingTheAcceptedOnes) {
  expect_error<InvalidArgument>(
      [] {
        odeint(decay, row({1.0}), {0.0, 1.0}, {.method = "rk45"});
      },
      {"rk45", "dopri5", "tsit5", "euler"});
}

TEST(Odeint, RejectsPerComponentToleranceOfTheWrongSize) {
  SolveOptions opt;
  opt.atol_per_component = {1e-6, 1e-6, 1e-6};
  expect_error<InvalidArgument>(
      [&] {
        odeint(decay, row({1.0, 2.0}), {0.0, 1.0}, opt);
      },
      {"atol_per_component has 3 entries", "dim = 2"});
}

TEST(Odeint, ReportsStepSizeUnderflowWithTimeAndStep) {
  // y' = y^2, y(0) = 1 blows up at t = 1.
  auto blowup = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = y.cwiseProduct(y);
  };
  expect_error<SolveError>(
      [&] {
        odeint(blowup, row({1.0}), {0.0, 2.0});
      },
      {"step size underflow at t = ", "h = ", "16*eps*|t|"});
}

TEST(Odeint, ReportsMaxNumStepsExceeded) {
  SolveOptions opt;
  opt.max_num_steps = 5;
  expect_error<SolveError>(
      [&] {
        odeint(decay, row({1.0}), {0.0, 100.0}, opt);
      },
      {"max_num_steps = 5", "at t = "});
}

TEST(Odeint, ReportsNanAppearingDuringAFixedStepSolveWithTheTime) {
  // f becomes NaN once t passes 0.5.
  auto poisoned = [](double t, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = -y;
    if (t > 0.5) dy(0, 0) = std::numeric_limits<double>::quiet_NaN();
  };
  expect_error<SolveError>(
      [&] {
        odeint(poisoned, row({1.0}), {0.0, 1.0}, {.method = "rk4", .step_size = 0.1});
      },
      {"NaN/Inf appeared in the state at t = 0.5"});
}

TEST(Odeint, ReportsNanAppearingDuringAnAdaptiveSolve) {
  auto poisoned = [](double t, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy = -y;
    if (t > 0.5) dy(0, 0) = std::numeric_limits<double>::quiet_NaN();
  };
  expect_error<SolveError>(
      [&] {
        odeint(poisoned, row({1.0}), {0.0, 1.0});
      },
      {"at t = 0.5", "NaN/Inf"});
}

TEST(Odeint, RejectsAGridThatDoesNotCoverTheOutputTimes) {
  SolveOptions opt;
  opt.method = "rk4";
  opt.grid = {0.0, 0.5, 0.9};
  expect_error<InvalidArgument>(
      [&] {
        odeint(decay, row({1.0}), {0.0, 1.0}, opt);
      },
      {"grid must start"});
}

TEST(Odeint, OutputRowZeroIsTheInitialState) {
  Solution<double> sol = odeint(decay, row({3.0, -1.0}), {0.0, 1.0});
  EXPECT_EQ(sol.state(0)(0, 0), 3.0);
  EXPECT_EQ(sol.state(0)(0, 1), -1.0);
}

TEST(Odeint, SingleOutputTimeReturnsTheInitialStateWithoutWork) {
  Solution<double> sol = odeint(decay, row({3.0}), {0.0});
  EXPECT_EQ(sol.num_times(), 1);
  EXPECT_EQ(sol.stats.nfe, 0);
}

// dopri5 is FSAL: 1 evaluation at t0, 1 for the automatic first step, then 6 per attempted step.
TEST(SolveStats, CountsEvaluationsOfAnFsalMethodExactly) {
  LinearSystem sys;
  Solution<double> sol = odeint(sys, Matrix<double>(sys.y0.transpose()), {0.0, 5.0});
  const auto& st = sol.stats;
  EXPECT_GT(st.num_accepted, 0);
  EXPECT_EQ(st.nfe, 2 + 6 * (st.num_accepted + st.num_rejected));
  EXPECT_NE(st.brief().find("dopri5"), std::string::npos);
  EXPECT_NE(st.report().find("function evaluations"), std::string::npos);
}

// rk4 with step_size: 4 evaluations per step, no error control, the last step shortened.
TEST(SolveStats, FixedStepSolveTakesCeilOfIntervalOverStep) {
  Solution<double> sol = odeint(decay, row({1.0}), {0.0, 1.0}, {.method = "rk4", .step_size = 0.3});
  EXPECT_TRUE(sol.stats.fixed_step);
  EXPECT_EQ(sol.stats.num_accepted, 4);  // 0.3, 0.6, 0.9, 1.0
  EXPECT_EQ(sol.stats.nfe, 16);
  EXPECT_NEAR(sol.stats.last_step, 0.1, 1e-15);
}

TEST(Odeint, GivenFirstStepIsUsedAndReported) {
  Solution<double> sol = odeint(decay, row({1.0}), {0.0, 1.0}, {.first_step = 1e-3});
  EXPECT_EQ(sol.stats.first_step_used, 1e-3);
  EXPECT_EQ(sol.stats.first_step_requested, 1e-3);
}

TEST(Odeint, MaxStepBoundsEveryStep) {
  struct Watch : StepObserver<double> {
    double largest = 0;
    void on_step(const AcceptedStep<double>& s) override {
      largest = std::max(largest, std::abs(s.h));
    }
  } watch;
  FunctionSystem<double, decltype(decay)> sys(decay);
  SolverWorkspace<double> ws;
  Solution<double> sol;
  Matrix<double> y0 = row({1.0});
  std::vector<double> times = {0.0, 10.0};
  SolveOptions opt;
  opt.max_step = 0.25;
  odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 1), times, opt, ws, sol, &watch);
  EXPECT_LE(watch.largest, 0.25);
  EXPECT_GE(sol.stats.num_accepted, 40);
}

// Time may run backwards: solving y' = -y from t = 1 to 0 gives e^{+1} y(1).
TEST(Odeint, IntegratesBackwardsInTime) {
  Solution<double> sol = odeint(decay, row({1.0}), {1.0, 0.5, 0.0}, {.rtol = 1e-10, .atol = 1e-12});
  EXPECT_NEAR(sol.state(1)(0, 0), std::exp(0.5), 1e-9);
  EXPECT_NEAR(sol.state(2)(0, 0), std::exp(1.0), 1e-9);
  EXPECT_LT(sol.stats.last_step, 0);
}

// A batch is one system with one step size; every row is still accurate.
TEST(Odeint, SolvesABatchAsOneSystem) {
  LinearSystem sys;
  Matrix<double> y0(3, 10);
  for (int b = 0; b < 3; ++b) y0.row(b) = (b + 1.0) * sys.y0.transpose();
  Solution<double> sol = odeint(sys, y0, {0.0, 2.0}, {.rtol = 1e-10, .atol = 1e-12});
  const Eigen::VectorXd exact = sys.exact(2.0);
  for (int b = 0; b < 3; ++b)
    EXPECT_LT((sol.state(1).row(b).transpose() - (b + 1.0) * exact).cwiseAbs().maxCoeff(),
              1e-8 * (b + 1));
}

// Per-component atol and zero norm weights change the step-size control as documented: masking a
// component that dominates the error must not increase the number of steps.
TEST(Odeint, NormWeightsMaskComponentsFromErrorControl) {
  auto two_scales = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy(0, 0) = -y(0, 0);
    dy(0, 1) = std::cos(20.0 * y(0, 1));  // fast, hard component
  };
  Solution<double> full =
      odeint(two_scales, row({1.0, 0.0}), {0.0, 5.0}, {.rtol = 1e-8, .atol = 1e-8});
  SolveOptions masked;
  masked.rtol = masked.atol = 1e-8;
  masked.norm_weights = {1.0, 0.0};
  Solution<double> semi = odeint(two_scales, row({1.0, 0.0}), {0.0, 5.0}, masked);
  EXPECT_LT(semi.stats.nfe, full.stats.nfe);
  // The unmasked component stays accurate.
  EXPECT_NEAR(semi.state(1)(0, 0), std::exp(-5.0), 1e-7);
}

TEST(Odeint, FloatSolvesAreAccurateToFloatTolerances) {
  testing::LinearSystemF sys;
  LinearSystem ref;
  Matrix<float> y0 = ref.y0.transpose().cast<float>();
  Solution<float> sol = odeint(sys, y0, {0.0f, 1.0f, 2.0f}, {.rtol = 1e-5, .atol = 1e-6});
  const Eigen::VectorXd exact = ref.exact(2.0);
  // rtol 1e-5 per step over ~20 steps; float rounding (6e-8 relative) is below that. The
  // global error stays within 10x the tolerance on this contractive problem (see the double test).
  EXPECT_LT((sol.state(2).transpose().cast<double>() - exact).cwiseAbs().maxCoeff(), 1e-4);
}

// The observer sees what the solver did: stage inputs consistent with the tableau, and outputs
// reproducible from the dense weights (what grad::Direct relies on).
TEST(StepObserver, OutputsAreReproducibleFromStagesAndDenseWeights) {
  for (const char* method : {"dopri5", "tsit5", "bosh3", "rk4", "dopri8", "heun_euler"}) {
    struct Recorder : StepObserver<double> {
      std::vector<std::vector<double>> y0, k, f_end;
      std::vector<double> t, h;
      std::vector<std::pair<Index, double>> outputs;  // (step, theta) per output
      const ButcherTableau* tab = nullptr;
      void on_step(const AcceptedStep<double>& s) override {
        tab = s.tableau;
        const Index n = s.batch * s.dim, st = s.tableau->stages;
        t.push_back(s.t);
        h.push_back(s.h);
        y0.emplace_back(s.y0, s.y0 + n);
        k.emplace_back(s.stage_derivs, s.stage_derivs + st * n);
        f_end.emplace_back(s.f_end ? std::vector<double>(s.f_end, s.f_end + n)
                                   : std::vector<double>());
        // Stage inputs: Y_i = y0 + h sum_j a_ij k_j.
        for (Index i = 0; i < st; ++i)
          for (Index m = 0; m < n; ++m) {
            double yi = s.y0[m];
            for (Index j = 0; j < i; ++j)
              yi += s.h * s.tableau->a_at(i, j) * s.stage_derivs[j * n + m];
            EXPECT_NEAR(s.stage_inputs[i * n + m], yi, 1e-14 * (1 + std::abs(yi)));
          }
      }
      void on_output(Index o, Index step, double theta) override {
        outputs.emplace_back(step, theta);
      }
    } rec;
    LinearSystem sys;
    Matrix<double> y0 = sys.y0.transpose();
    std::vector<double> times = {0.0, 0.3, 1.1, 2.0, 2.05};
    SolveOptions opt;
    opt.method = method;
    if (!find_method(method).adaptive()) opt.step_size = 0.2;
    SolverWorkspace<double> ws;
    Solution<double> sol;
    odeint<double>(sys, ConstMatrixView<double>(y0.data(), 1, 10), times, opt, ws, sol, &rec);
    ASSERT_EQ(rec.outputs.size(), times.size()) << method;
    std::vector<double> w(rec.tab->stages + 1);
    for (std::size_t o = 1; o < times.size(); ++o) {
      const auto [step, theta] = rec.outputs[o];
      rec.tab->dense_weights(theta, w.data());
      for (Index m = 0; m < 10; ++m) {
        double y = rec.y0[step][m];
        for (int i = 0; i < rec.tab->stages; ++i) y += rec.h[step] * w[i] * rec.k[step][i * 10 + m];
        if (w[rec.tab->stages] != 0) {
          ASSERT_FALSE(rec.f_end[step].empty()) << method;
          y += rec.h[step] * w[rec.tab->stages] * rec.f_end[step][m];
        }
        EXPECT_NEAR(sol.state(o)(0, m), y, 1e-13) << method << " output " << o;
      }
    }
  }
}

// The step loop allocates nothing: a second solve with the same workspace, solution and shapes
// performs zero heap allocations, adaptive and fixed-step, with dense output, under every
// step-size controller, and with an observer (which keeps every stage input).
TEST(Odeint, SecondSolveWithSameWorkspaceDoesNotAllocate) {
  struct Quiet final : StepObserver<double> {
    void on_step(const AcceptedStep<double>&) override {}
  };
  for (const char* method : {"dopri5", "tsit5", "bosh3", "rk4"})
    for (Controller controller : {Controller::i, Controller::pi, Controller::pid})
      for (bool observed : {false, true}) {
        const std::string what = std::string(method) + " " + std::string(to_string(controller)) +
                                 (observed ? " observed" : "");
        Quiet quiet;
        StepObserver<double>* observer = observed ? &quiet : nullptr;
        LinearSystem sys;
        Matrix<double> y0(4, 10);
        for (int b = 0; b < 4; ++b) y0.row(b) = sys.y0.transpose();
        std::vector<double> times = {0.0, 0.25, 0.5, 1.0, 3.0};
        SolveOptions opt;
        opt.method = method;
        opt.controller = controller;
        opt.pcoeff = opt.icoeff = 0.3;  // used by Controller::pid only
        if (!find_method(method).adaptive()) opt.step_size = 0.1;
        SolverWorkspace<double> ws;
        Solution<double> sol;
        ConstMatrixView<double> y0v(y0.data(), 4, 10);
        odeint<double>(sys, y0v, times, opt, ws, sol, observer);
        g_allocations = 0;
        g_counting = true;
        odeint<double>(sys, y0v, times, opt, ws, sol, observer);
        g_counting = false;
        EXPECT_EQ(g_allocations.load(), 0) << what;
        EXPECT_GT(sol.stats.num_accepted, 5) << what;
      }
}

// An atol so small that a component's scale atol + rtol |y| is subnormal (here y_1 stays 0):
// the norm then divides instead of using the reciprocal estimate, which is not defined there
// (it would make 0 / scale = 0 * inf = NaN and reject every step). Scalar and per-component atol.
TEST(Odeint, SubnormalAtolStillSolves) {
  auto f = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy(0, 0) = -y(0, 0);
    dy(0, 1) = 0.0;
  };
  SolveOptions opt;
  opt.rtol = 1e-8;
  opt.atol = 1e-310;
  Solution<double> sol = odeint(f, row({1.0, 0.0}), {0.0, 1.0}, opt);
  EXPECT_NEAR(sol.state(1)(0, 0), std::exp(-1.0), 1e-7);
  opt.atol_per_component = {1e-6, 1e-310};
  sol = odeint(f, row({1.0, 0.0}), {0.0, 1.0}, opt);
  EXPECT_NEAR(sol.state(1)(0, 0), std::exp(-1.0), 1e-5);
}

// A component's trajectory does not depend on the state's size or on where it sits: the stage
// combinations run in SIMD packs with a masked last pack and chunks of several packs, and every
// component must see the same operations in the same order. Each component of a diagonal linear
// system y_i' = lambda_i y_i, solved at sizes across pack and chunk boundaries, equals bit for
// bit the same component solved alone (fixed steps, so the step sizes are the same too).
template <class Scalar>
class DiagonalSystem final : public System<Scalar> {
 public:
  explicit DiagonalSystem(std::vector<Scalar> lambda) : lambda_(std::move(lambda)) {}
  void rhs(Scalar, ConstMatrixView<Scalar> y, MatrixView<Scalar> dy) override {
    for (Index i = 0; i < y.size(); ++i) dy.data()[i] = lambda_[i] * y.data()[i];
  }

 private:
  std::vector<Scalar> lambda_;
};

template <class Scalar>
void check_components_are_independent_of_size() {
  auto lambda_of = [](Index i) { return static_cast<Scalar>(-0.3 - 0.2 * (i % 7)); };
  auto y0_of = [](Index i) { return static_cast<Scalar>(1.0 + 0.01 * (i % 11)); };
  const std::vector<Scalar> times = {Scalar(0), Scalar(0.3), Scalar(1)};
  for (const char* method : {"rk4", "dopri5", "dopri8"}) {
    SolveOptions opt;
    opt.method = method;
    opt.step_size = 0.125;
    for (const Index n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 300}) {
      std::vector<Scalar> lambda(static_cast<std::size_t>(n));
      Matrix<Scalar> y0(1, n);
      for (Index i = 0; i < n; ++i) lambda[i] = lambda_of(i), y0(0, i) = y0_of(i);
      DiagonalSystem<Scalar> sys(lambda);
      const Solution<Scalar> all = odeint(sys, y0, times, opt);
      for (Index i = 0; i < n; i += 1 + n / 40) {
        DiagonalSystem<Scalar> one({lambda_of(i)});
        Matrix<Scalar> y0_one(1, 1);
        y0_one(0, 0) = y0_of(i);
        const Solution<Scalar> alone = odeint(one, y0_one, times, opt);
        for (Index o = 1; o < 3; ++o)
          ASSERT_EQ(all.state(o)(0, i), alone.state(o)(0, 0))
              << method << ", n = " << n << ", component " << i << ", output " << o;
      }
    }
  }
}

TEST(Odeint, ComponentsDoNotDependOnTheStateSizeDouble) {
  check_components_are_independent_of_size<double>();
}
TEST(Odeint, ComponentsDoNotDependOnTheStateSizeFloat) {
  check_components_are_independent_of_size<float>();
}

}  // namespace
}  // namespace neuralode::ode
