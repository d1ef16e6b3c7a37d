// The built-in problems keep their promises: exact solutions solve the ODE, invariants are
// invariant, references are reached by a tight solve, and names resolve or fail helpfully.
// GCC 12 reports false -Wmaybe-uninitialized inside its own AVX-512 intrinsics headers when
// Eigen's matrix exponential and eigensolver are compiled with -march=native; off in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "neuralode/ode/problems.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <unsupported/Eigen/MatrixFunctions>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::ode {
namespace {

template <class Predicate>
std::vector<std::string> problem_names_where(Predicate keep) {
  std::vector<std::string> names;
  for (const Problem& p : builtin_problems())
    if (keep(p)) names.push_back(p.name);
  return names;
}

std::string param_name(const testing::TestParamInfo<std::string>& info) {
  return info.param;
}

std::vector<double> rhs_at(const Problem& p, double t, const std::vector<double>& y) {
  std::vector<double> dy(y.size());
  p.rhs(t, y.data(), dy.data());
  return dy;
}

std::vector<double> exact_at(const Problem& p, double t) {
  std::vector<double> y(static_cast<std::size_t>(p.dim));
  p.exact(t, y.data());
  return y;
}

// A tight solve over the default interval: dopri8 at rtol = atol = 1e-12.
Solution<double> tight_solve(const Problem& p) {
  SolveOptions options;
  options.method = "dopri8";
  options.rtol = options.atol = 1e-12;
  ProblemSystem system(p);
  return odeint(system, p.initial_state(1), {p.t0, p.t1}, options);
}

// ---- every problem -----------------------------------------------------------------------------

class EveryProblem : public testing::TestWithParam<std::string> {};

TEST_P(EveryProblem, IsWellFormed) {
  const Problem& p = find_problem(GetParam());
  EXPECT_GT(p.dim, 0);
  EXPECT_EQ(static_cast<Index>(p.y0.size()), p.dim);
  EXPECT_GT(p.t1, p.t0);
  EXPECT_FALSE(p.description.empty());
  EXPECT_FALSE(p.reference_note.empty());
  ASSERT_TRUE(p.rhs);
  for (double v : rhs_at(p, p.t0, p.y0)) EXPECT_TRUE(std::isfinite(v));
  for (const auto& inv : p.invariants)
    EXPECT_TRUE(std::isfinite(inv.value(p.y0.data()))) << inv.name;
  if (!p.y1_reference.empty()) {
    EXPECT_EQ(static_cast<Index>(p.y1_reference.size()), p.dim);
  }
}

TEST_P(EveryProblem, SolvesOverItsDefaultIntervalAtDefaultOptions) {
  const Problem& p = find_problem(GetParam());
  ProblemSystem system(p);
  const auto sol = odeint(system, p.initial_state(1), {p.t0, p.t1});
  for (Index i = 0; i < p.dim; ++i) EXPECT_TRUE(std::isfinite(sol.state(1)(0, i)));
}

INSTANTIATE_TEST_SUITE_P(
    Problems, EveryProblem,
    testing::ValuesIn(problem_names_where([](const Problem&) { return true; })), param_name);

// ---- problems with an exact solution -----------------------------------------------------------

class ProblemWithExactSolution : public testing::TestWithParam<std::string> {};

TEST_P(ProblemWithExactSolution, StartsAtY0) {
  const Problem& p = find_problem(GetParam());
  const auto y = exact_at(p, p.t0);
  for (Index i = 0; i < p.dim; ++i)
    EXPECT_NEAR(y[i], p.y0[i], 1e-14 * (1 + std::abs(p.y0[i]))) << "i = " << i;
}

TEST_P(ProblemWithExactSolution, SatisfiesTheOde) {
  const Problem& p = find_problem(GetParam());
  // Five-point central difference, y'(t) ~ (-y(t+2h) + 8y(t+h) - 8y(t-h) + y(t-2h)) / (12h), with
  // h = 1e-3: truncation h^4/30 |y^(5)| ~ 3e-14 |y^(5)|, rounding ~ eps |y| / h ~ 2e-13 |y|.
  // Measured worst |difference - f| / (1 + |f|): 4e-11 (kepler near perihelion, linear), so 1e-8
  // leaves ample margin while a wrong sign or factor in f or in the exact solution fails by O(1).
  const double h = 1e-3;
  for (double fraction : {0.0, 0.13, 0.37, 0.5, 0.71, 0.96, 1.0}) {
    const double t = p.t0 + fraction * (p.t1 - p.t0);
    const auto p2 = exact_at(p, t + 2 * h), p1 = exact_at(p, t + h);
    const auto m1 = exact_at(p, t - h), m2 = exact_at(p, t - 2 * h);
    const auto f = rhs_at(p, t, exact_at(p, t));
    for (Index i = 0; i < p.dim; ++i) {
      const double derivative = (-p2[i] + 8 * p1[i] - 8 * m1[i] + m2[i]) / (12 * h);
      EXPECT_NEAR(derivative, f[i], 1e-8 * (1 + std::abs(f[i])))
          << "t = " << t << ", component " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Problems, ProblemWithExactSolution,
                         testing::ValuesIn(problem_names_where([](const Problem& p) {
                           return static_cast<bool>(p.exact);
                         })),
                         param_name);

// ---- problems with invariants ------------------------------------------------------------------

class ProblemWithInvariants : public testing::TestWithParam<std::string> {};

// Records the largest change of each invariant at the end of every accepted step. Step ends, not
// output times: between steps the values come from dense output, whose own error (Hermite, third
// order, for dopri8) would be measured instead of the invariant's.
class InvariantDrift final : public StepObserver<double> {
 public:
  explicit InvariantDrift(const Problem& p) : problem_(p), drift_(p.invariants.size(), 0.0) {
    for (const auto& inv : p.invariants) initial_.push_back(inv.value(p.y0.data()));
  }
  void on_step(const AcceptedStep<double>& step) override {
    for (std::size_t i = 0; i < drift_.size(); ++i)
      drift_[i] =
          std::max(drift_[i], std::abs(problem_.invariants[i].value(step.y1) - initial_[i]));
    ++steps_;
  }
  double drift(std::size_t i) const { return drift_[i]; }
  double initial(std::size_t i) const { return initial_[i]; }
  int steps() const { return steps_; }

 private:
  const Problem& problem_;
  std::vector<double> initial_, drift_;
  int steps_ = 0;
};

TEST_P(ProblemWithInvariants, AreConstantAlongATightSolve) {
  const Problem& p = find_problem(GetParam());
  SolveOptions options;
  options.method = "dopri8";
  options.rtol = options.atol = 1e-12;
  ProblemSystem system(p);
  const Matrix<double> y0 = p.initial_state(1);
  const std::vector<double> times = {p.t0, p.t1};
  SolverWorkspace<double> workspace;
  Solution<double> solution;
  InvariantDrift observer(p);
  odeint<double>(system, ConstMatrixView<double>(y0.data(), 1, p.dim), times, options, workspace,
                 solution, &observer);
  ASSERT_GT(observer.steps(), 10);
  // Measured drifts at step ends: <= 8e-15 on harmonic, lotka_volterra and kepler, 3e-13 for
  // arenstorf's Jacobi integral (the orbit's close approaches to the Earth amplify the error).
  // 1e-10 (1 + |I|) leaves ~300x margin; a wrong sign or coefficient in an invariant drifts by
  // 1e-2 or more (see DriftVisiblyAlongALooseSolve).
  for (std::size_t i = 0; i < p.invariants.size(); ++i)
    EXPECT_LE(observer.drift(i), 1e-10 * (1 + std::abs(observer.initial(i))))
        << p.invariants[i].name;
}

INSTANTIATE_TEST_SUITE_P(Problems, ProblemWithInvariants,
                         testing::ValuesIn(problem_names_where([](const Problem& p) {
                           return !p.invariants.empty();
                         })),
                         param_name);

TEST(ProblemInvariants, DriftVisiblyAlongALooseSolve) {
  // The invariant check above would be vacuous if the invariants were constant functions: a loose
  // bosh3 solve must move the Lotka-Volterra V by far more than the tight solve does.
  const Problem& p = find_problem("lotka_volterra");
  SolveOptions options;
  options.method = "bosh3";
  options.rtol = options.atol = 1e-2;
  ProblemSystem system(p);
  const auto sol = odeint(system, p.initial_state(1), {p.t0, p.t1}, options);
  const auto& v = p.invariants.front().value;
  EXPECT_GT(std::abs(v(sol.state(1).data()) - v(p.y0.data())), 1e-5);
}

// ---- problems with a reference at t1 -----------------------------------------------------------

class ProblemWithReference : public testing::TestWithParam<std::string> {};

TEST_P(ProblemWithReference, TightSolveReachesTheReference) {
  const Problem& p = find_problem(GetParam());
  const auto sol = tight_solve(p);
  const auto y1 = sol.state(1);
  const auto error = p.error(p.t0, p.t1, std::span<const double>(y1.data(), y1.size()));
  ASSERT_TRUE(error.has_value());
  // The reference is exact (closed forms) or y0 after one period (Arenstorf: 30-digit data rounded
  // to double). Measured errors: <= 4e-14 for the closed forms, 9.9e-10 for arenstorf, whose close
  // approaches to the Earth amplify the local errors. 1e-7 leaves 100x margin and still catches a
  // wrong period, initial value or equation (errors of 1e-3 and more).
  EXPECT_LT(*error, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Problems, ProblemWithReference,
                         testing::ValuesIn(problem_names_where([](const Problem& p) {
                           return p.has_reference();
                         })),
                         param_name);

// ---- the registry ------------------------------------------------------------------------------

TEST(BuiltinProblems, AreTheDocumentedSevenInOrder) {
  EXPECT_EQ(problem_names_where([](const Problem&) { return true; }),
            (std::vector<std::string>{"linear", "harmonic", "vanderpol", "lotka_volterra", "kepler",
                                      "arenstorf", "brusselator"}));
}

TEST(BuiltinProblems, ReferencesAreKnownForLinearHarmonicKeplerArenstorf) {
  EXPECT_EQ(problem_names_where([](const Problem& p) { return p.has_reference(); }),
            (std::vector<std::string>{"linear", "harmonic", "kepler", "arenstorf"}));
}

TEST(FindProblem, UnknownNameThrowsListingAcceptedNames) {
  try {
    find_problem("lorenz");
    FAIL() << "find_problem(\"lorenz\") did not throw";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'lorenz'"), std::string::npos) << message;
    for (const Problem& p : builtin_problems())
      EXPECT_NE(message.find(p.name), std::string::npos) << message;
  }
}

TEST(FindProblem, FindsEveryBuiltinByName) {
  for (const Problem& p : builtin_problems()) EXPECT_EQ(&find_problem(p.name), &p);
}

// ---- references --------------------------------------------------------------------------------

TEST(ProblemReference, ShiftsWithTheStartTimeForAutonomousProblems) {
  const Problem& p = find_problem("harmonic");
  std::vector<double> y(2);
  ASSERT_TRUE(p.reference(5.0, 6.0, y));
  EXPECT_NEAR(y[0], std::cos(1.0), 1e-15);
  EXPECT_NEAR(y[1], -std::sin(1.0), 1e-15);
}

TEST(ProblemReference, StoredValueAppliesOnlyToTheDefaultInterval) {
  const Problem& p = find_problem("arenstorf");
  std::vector<double> y(4);
  EXPECT_TRUE(p.reference(p.t0, p.t1, y));
  EXPECT_EQ(y, p.y0);
  EXPECT_FALSE(p.reference(p.t0, 1.0, y));
  EXPECT_FALSE(p.error(p.t0, 1.0, y).has_value());
}

TEST(ProblemReference, NoneForProblemsWithoutOne) {
  const Problem& p = find_problem("vanderpol");
  std::vector<double> y(2);
  EXPECT_FALSE(p.reference(p.t0, p.t1, y));
}

TEST(ProblemReference, RejectsAWronglySizedBuffer) {
  std::vector<double> y(3);
  EXPECT_THROW(find_problem("harmonic").reference(0.0, 1.0, y), InvalidArgument);
}

// ---- single problems ---------------------------------------------------------------------------

Eigen::MatrixXd linear_matrix(const Problem& p) {
  // The rhs is y -> A y, so its images of the unit vectors are A's columns.
  Eigen::MatrixXd a(p.dim, p.dim);
  for (Index j = 0; j < p.dim; ++j) {
    std::vector<double> e(static_cast<std::size_t>(p.dim), 0.0);
    e[static_cast<std::size_t>(j)] = 1.0;
    const auto column = rhs_at(p, 0.0, e);
    for (Index i = 0; i < p.dim; ++i) a(i, j) = column[static_cast<std::size_t>(i)];
  }
  return a;
}

TEST(LinearProblem, ExactSolutionMatchesTheMatrixExponential) {
  const Problem& p = find_problem("linear");
  const Eigen::MatrixXd a = linear_matrix(p);
  const Eigen::VectorXd y0 = Eigen::Map<const Eigen::VectorXd>(p.y0.data(), p.dim);
  for (double t : {0.5, 3.0, 10.0}) {
    const Eigen::MatrixXd at = a * t;
    const Eigen::VectorXd expected = at.exp() * y0;
    const auto y = exact_at(p, t);
    // Pade approximation with scaling and squaring: ~1e-14 relative for |A t| ~ 50.
    for (Index i = 0; i < p.dim; ++i)
      EXPECT_NEAR(y[i], expected[i], 1e-12) << "t = " << t << ", i = " << i;
  }
}

TEST(LinearProblem, HasTheDocumentedDecayingAndOscillatingModes) {
  const Eigen::MatrixXd a = linear_matrix(find_problem("linear"));
  const Eigen::VectorXcd eigenvalues = Eigen::EigenSolver<Eigen::MatrixXd>(a).eigenvalues();
  const std::vector<std::complex<double>> modes = {
      {-0.1, 1},   {-0.1, -1}, {-0.3, 2.5}, {-0.3, -2.5}, {-0.02, 5},
      {-0.02, -5}, {-0.2, 0},  {-0.5, 0},   {-1, 0},      {-2, 0}};
  for (const auto& mode : modes) {
    double nearest = 1e300;
    for (Index i = 0; i < eigenvalues.size(); ++i)
      nearest = std::min(nearest, std::abs(eigenvalues[i] - mode));
    EXPECT_LT(nearest, 1e-10) << "mode " << mode;
  }
  // Q mixes the components: no entry of A is zero, so no mode lives in one coordinate.
  EXPECT_GT(a.cwiseAbs().minCoeff(), 0.0);
}

TEST(KeplerProblem, ExactSolutionReturnsToY0AfterOnePeriod) {
  const Problem& p = find_problem("kepler");
  const auto y = exact_at(p, p.t1);
  for (Index i = 0; i < 4; ++i) EXPECT_NEAR(y[i], p.y0[i], 1e-14);
}

TEST(KeplerProblem, InvariantsHaveTheirClosedFormValues) {
  // Semi-major axis 1: energy -1/(2a) = -0.5; angular momentum sqrt(1 - e^2) = sqrt(0.75).
  const Problem& p = find_problem("kepler");
  EXPECT_NEAR(p.invariants.at(0).value(p.y0.data()), -0.5, 1e-15);
  EXPECT_NEAR(p.invariants.at(1).value(p.y0.data()), std::sqrt(0.75), 1e-15);
}

// ---- the System adapter ------------------------------------------------------------------------

TEST(ProblemSystem, AppliesTheRhsToEveryRowOfTheBatch) {
  const Problem& p = find_problem("arenstorf");
  Matrix<double> y(3, 4);
  y << 0.994, 0, 0, -2.0, 0.5, 0.2, -0.3, 0.1, -0.8, 0.4, 1.0, 0.0;
  Matrix<double> dy(3, 4);
  ProblemSystem system(p);
  system.rhs(0.0, ConstMatrixView<double>(y.data(), 3, 4), MatrixView<double>(dy.data(), 3, 4));
  for (Index r = 0; r < 3; ++r) {
    double expected[4];
    p.rhs(0.0, y.row(r).data(), expected);
    for (Index i = 0; i < 4; ++i)
      EXPECT_EQ(dy(r, i), expected[i]) << "row " << r << ", component " << i;
  }
}

TEST(ProblemSystem, RejectsABatchOfTheWrongDim) {
  const Problem& p = find_problem("harmonic");
  Matrix<double> y = Matrix<double>::Zero(1, 3), dy(1, 3);
  ProblemSystem system(p);
  EXPECT_THROW(
      system.rhs(0.0, ConstMatrixView<double>(y.data(), 1, 3), MatrixView<double>(dy.data(), 1, 3)),
      InvalidArgument);
}

TEST(ProblemInitialState, RepeatsY0InEveryRow) {
  const Problem& p = find_problem("kepler");
  const Matrix<double> y = p.initial_state(5);
  ASSERT_EQ(y.rows(), 5);
  ASSERT_EQ(y.cols(), 4);
  for (Index r = 0; r < 5; ++r)
    for (Index i = 0; i < 4; ++i) EXPECT_EQ(y(r, i), p.y0[i]);
  EXPECT_THROW(p.initial_state(0), InvalidArgument);
}

}  // namespace
}  // namespace neuralode::ode
