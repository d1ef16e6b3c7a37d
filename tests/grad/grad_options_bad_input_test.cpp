// Bad GradOptions (issue 21): GradOptions::validate refuses each class with InvalidArgument
// naming the field, its value and what is accepted, before any solve.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "grad/test_fields.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::grad {
namespace {

void expect_refused(const GradOptions& g, std::initializer_list<const char*> fragments) {
  try {
    g.validate();
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    for (const char* frag : fragments)
      EXPECT_NE(m.find(frag), std::string::npos) << "message '" << m << "' lacks '" << frag << "'";
  }
}

TEST(GradOptionsBadInput, DefaultsAreValid) {
  GradOptions{}.validate();
}

TEST(GradOptionsBadInput, UnknownNamesListTheRegistries) {
  // Starts with the problem itself: callers put their flag in front ("--grad: ...").
  expect_refused({.method = "magic"}, {"unknown gradient method 'magic'; accepted: direct"});
  expect_refused({.adjoint_method = "rk45"}, {"GradOptions: adjoint_method: unknown method 'rk45'",
                                              "dopri5", "or empty: the forward method"});
  EXPECT_THROW(parse_adjoint_norm("semi"), InvalidArgument);
}

TEST(GradOptionsBadInput, TolerancesOutOfRangeOrNotFiniteAreRefused) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_refused({.adjoint_rtol = -1}, {"adjoint_rtol = -1 is out of range", "0 = the forward"});
  expect_refused({.adjoint_rtol = nan}, {"adjoint_rtol = nan"});
  expect_refused({.adjoint_atol = std::numeric_limits<double>::infinity()},
                 {"adjoint_atol = inf is out of range"});
  // Both below the unit roundoff: the backward solve could never meet them.
  expect_refused({.adjoint_rtol = 1e-300, .adjoint_atol = 1e-300},
                 {"adjoint_rtol = 1e-300 and adjoint_atol = 1e-300", "unit roundoff of double"});
  GradOptions{.adjoint_rtol = 1e-20, .adjoint_atol = 1e-9}.validate();  // absolute control
}

TEST(GradOptionsBadInput, CountsOutOfRangeAreRefused) {
  GradOptions g;
  g.checkpoint_every = 0;
  expect_refused(g, {"checkpoint_every = 0 is out of range", "accepted: an integer >= 1"});
  g = {};
  g.binomial_snapshots = 1;
  expect_refused(g, {"binomial_snapshots = 1", "0 (automatic) or an integer >= 2"});
  g.binomial_snapshots = -3;
  expect_refused(g, {"binomial_snapshots = -3"});
  g = {};
  g.adjoint_norm = static_cast<AdjointNorm>(5);
  expect_refused(g, {"adjoint_norm = 5", "accepted: full, seminorm"});
}

// SolveOptions refuses first_step and step_size for a solve that steps on a grid (they would be
// ignored). The checkpoint and binomial methods replay the forward steps on such a grid, copied
// from the forward options: a forward first_step must not make those replays fail.
TEST(GradientMethodsBadInput, ReplaysOnTheRecordedGridIgnoreTheForwardFirstStep) {
  testing::TanhMlpField<double> field(2, 4);
  Matrix<double> y0(2, 2);
  y0 << 0.5, -1.0, 1.5, 0.3;
  const std::vector<double> times = {0.0, 0.4, 1.0};
  ode::SolveOptions opt{.method = "dopri5", .rtol = 1e-8, .atol = 1e-10, .first_step = 0.01};
  Matrix<double> dl = Matrix<double>::Ones(3, 4);
  Vector<double> reference;
  for (const GradientMethodInfo& info : all_gradient_methods()) {
    const std::string name(info.name);
    GradOptions g{.method = name};
    g.checkpoint_every = 2;
    auto method = make_gradient_method<double>(g);
    Gradients<double> out;
    try {
      method->forward(field, ConstMatrixView<double>(y0.data(), 2, 2), times, opt);
      method->backward(ConstMatrixView<double>(dl.data(), 3, 4), out);
    } catch (const Error& e) {
      ADD_FAILURE() << name << ": " << e.what();
      continue;
    }
    // The continuous adjoints' backward passes run at rtol = 1e-8 (checkpoint measured ~4e-8 away
    // from direct's discrete gradient here), the discrete methods are exact to rounding: 1e-5 only
    // checks that replays ran on the forward's steps, which is what a failing replay would break.
    if (reference.size() == 0) {
      reference = out.params;
      continue;
    }
    ASSERT_EQ(out.params.size(), reference.size()) << name;
    for (Index i = 0; i < reference.size(); ++i)
      EXPECT_NEAR(out.params[i], reference[i], 1e-5 * (1 + std::abs(reference[i]))) << name << i;
  }
}

}  // namespace
}  // namespace neuralode::grad
