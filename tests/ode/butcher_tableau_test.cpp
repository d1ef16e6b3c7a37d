// Properties every registered Butcher tableau must have (order conditions of its weights, dense
// output that ends at b and has its stated order, FSAL detected from structure) and the checks
// ButcherTableau::validate() and the registry promise. Parametrized over all_methods(), so a new
// method is tested by registering it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/ode/butcher_tableau.hpp"
#include "neuralode/ode/method_registry.hpp"

namespace neuralode::ode {
namespace {

using Vector = std::vector<double>;

// Tolerance of the order conditions, relative to the size of the terms summed. Each coefficient is
// a rational or algebraic number rounded once to double (relative error u = 1.1e-16; Tsitouras's
// and DOP853's literals carry 21-30 digits, dopri5's rationals are divided in double with one
// rounding). An elementary weight sum_i w_i Phi_i is a product of at most 5 coefficients summed
// over at most 13 stages, nested at most 4 deep, so the standard bound on its rounding error is
// about (5 + 4 * 13) u sum_i |w_i| |Phi_i| ~ 6e-15 * magnitude, where |Phi| is Phi evaluated on
// |a| and |c|. 1e-13 * max(1, magnitude) leaves a 15x margin and still catches a coefficient wrong
// in its 13th digit for the hand-sized methods (DOP853's magnitudes reach ~1e3, so its bound is
// proportionally looser, as its rounding error is).
constexpr double kTolerance = 1e-13;

// A tableau's stages (a and c), either as given or in absolute value (for the magnitude above).
struct Stages {
  std::size_t s = 0;
  Vector a;  // s x s, row-major
  Vector c;
};

Vector times_a(const Stages& k, const Vector& v) {
  Vector out(k.s, 0.0);
  for (std::size_t i = 0; i < k.s; ++i) {
    for (std::size_t j = 0; j < k.s; ++j) out[i] += k.a[i * k.s + j] * v[j];
  }
  return out;
}

Vector times(const Vector& u, const Vector& v) {
  Vector out(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) out[i] = u[i] * v[i];
  return out;
}

Vector ones(const Stages& k) {
  return Vector(k.s, 1.0);
}

// One rooted tree: the condition sum_i w_i Phi_i = theta^order / gamma (HNW I, section II.2;
// gamma is the tree's density), with theta = 1 for the step's own weights. Phi is written out per
// tree below.
struct Tree {
  const char* condition;
  int order;
  double gamma;
  Vector (*phi)(const Stages&);
};

// clang-format off
const Tree kTrees[] = {
    // order 1
    {"sum b = 1",            1, 1.0,   [](const Stages& k) { return ones(k); }},
    // order 2
    {"sum b c = 1/2",        2, 2.0,   [](const Stages& k) { return k.c; }},
    // order 3
    {"sum b c^2 = 1/3",      3, 3.0,   [](const Stages& k) { return times(k.c, k.c); }},
    {"sum b A c = 1/6",      3, 6.0,   [](const Stages& k) { return times_a(k, k.c); }},
    // order 4
    {"sum b c^3 = 1/4",      4, 4.0,   [](const Stages& k) { return times(k.c, times(k.c, k.c)); }},
    {"sum b c A c = 1/8",    4, 8.0,   [](const Stages& k) { return times(k.c, times_a(k, k.c)); }},
    {"sum b A c^2 = 1/12",   4, 12.0,  [](const Stages& k) { return times_a(k, times(k.c, k.c)); }},
    {"sum b A A c = 1/24",   4, 24.0,  [](const Stages& k) { return times_a(k, times_a(k, k.c)); }},
    // order 5
    {"sum b c^4 = 1/5",      5, 5.0,   [](const Stages& k) {
        const Vector c2 = times(k.c, k.c);
        return times(c2, c2); }},
    {"sum b c^2 A c = 1/10", 5, 10.0,  [](const Stages& k) {
        return times(times(k.c, k.c), times_a(k, k.c)); }},
    {"sum b c A c^2 = 1/15", 5, 15.0,  [](const Stages& k) {
        return times(k.c, times_a(k, times(k.c, k.c))); }},
    {"sum b c A A c = 1/30", 5, 30.0,  [](const Stages& k) {
        return times(k.c, times_a(k, times_a(k, k.c))); }},
    {"sum b (A c)^2 = 1/20", 5, 20.0,  [](const Stages& k) {
        const Vector ac = times_a(k, k.c);
        return times(ac, ac); }},
    {"sum b A c^3 = 1/20",   5, 20.0,  [](const Stages& k) {
        return times_a(k, times(k.c, times(k.c, k.c))); }},
    {"sum b A (c A c) = 1/40", 5, 40.0, [](const Stages& k) {
        return times_a(k, times(k.c, times_a(k, k.c))); }},
    {"sum b A A c^2 = 1/60", 5, 60.0,  [](const Stages& k) {
        return times_a(k, times_a(k, times(k.c, k.c))); }},
    {"sum b A A A c = 1/120", 5, 120.0, [](const Stages& k) {
        return times_a(k, times_a(k, times_a(k, k.c))); }},
};
// clang-format on

constexpr int kHighestTreeOrder = 5;

Stages stages_of(const ButcherTableau& t) {
  return {static_cast<std::size_t>(t.stages), t.a, t.c};
}

// The tableau with one more stage, f(t + h, y_new): c = 1 and its row of a is b. Dense weights
// (s + 1 of them) are weights on these stages.
Stages stages_with_end_slope(const ButcherTableau& t) {
  const auto s = static_cast<std::size_t>(t.stages);
  Stages k{s + 1, Vector((s + 1) * (s + 1), 0.0), t.c};
  for (std::size_t i = 0; i < s; ++i) {
    for (std::size_t j = 0; j < s; ++j) k.a[i * (s + 1) + j] = t.a[i * s + j];
  }
  for (std::size_t j = 0; j < s; ++j) k.a[s * (s + 1) + j] = t.b[j];
  k.c.push_back(1.0);
  return k;
}

Stages absolute(Stages k) {
  for (double& x : k.a) x = std::abs(x);
  for (double& x : k.c) x = std::abs(x);
  return k;
}

Vector absolute(Vector v) {
  for (double& x : v) x = std::abs(x);
  return v;
}

double dot(const Vector& u, const Vector& v) {
  double sum = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) sum += u[i] * v[i];
  return sum;
}

struct Residual {
  double value = 0.0;      // sum_i w_i Phi_i - theta^order / gamma
  double tolerance = 0.0;  // kTolerance * max(1, sum_i |w_i| |Phi_i|)
};

Residual residual(const Tree& tree, const Vector& w, const Stages& k, double theta = 1.0) {
  const double target = std::pow(theta, tree.order) / tree.gamma;
  const double magnitude = dot(absolute(w), tree.phi(absolute(k)));
  return {dot(w, tree.phi(k)) - target, kTolerance * std::max(1.0, magnitude)};
}

// Every tree condition up to `order` (at most kHighestTreeOrder) holds for weights w.
void expect_conditions_up_to(int order, const Vector& w, const Stages& k, const std::string& what,
                             double theta = 1.0) {
  for (const Tree& tree : kTrees) {
    if (tree.order > order) continue;
    const Residual r = residual(tree, w, k, theta);
    EXPECT_LE(std::abs(r.value), r.tolerance)
        << what << " break the order-" << tree.order << " condition " << tree.condition
        << (theta != 1.0 ? " (times theta^order, theta = " + std::to_string(theta) + ")" : "")
        << ": residual " << r.value;
  }
}

// Some condition of order `order` fails clearly: the stated order is not an understatement.
void expect_some_condition_fails_at(int order, const Vector& w, const Stages& k,
                                    const std::string& what) {
  double worst = 0.0;
  for (const Tree& tree : kTrees) {
    if (tree.order != order) continue;
    const Residual r = residual(tree, w, k);
    worst = std::max(worst, std::abs(r.value) / r.tolerance);
  }
  EXPECT_GT(worst, 1e3) << what << " satisfy every order-" << order
                        << " condition: the stated order is too low";
}

class EveryTableau : public ::testing::TestWithParam<const ButcherTableau*> {};

TEST_P(EveryTableau, WeightsSatisfyOrderConditionsUpToOrderP) {
  const ButcherTableau& t = *GetParam();
  expect_conditions_up_to(std::min(t.order, kHighestTreeOrder), t.b, stages_of(t),
                          t.name + "'s weights b");
}

TEST_P(EveryTableau, EmbeddedWeightsSatisfyOrderConditionsUpToOrderQ) {
  const ButcherTableau& t = *GetParam();
  if (!t.adaptive()) {
    EXPECT_TRUE(t.bhat.empty()) << t.name << " is fixed-step but has embedded weights";
    return;
  }
  expect_conditions_up_to(std::min(t.embedded_order, kHighestTreeOrder), t.bhat, stages_of(t),
                          t.name + "'s embedded weights bhat");
}

TEST_P(EveryTableau, StatedOrdersAreSharp) {
  const ButcherTableau& t = *GetParam();
  if (t.order < kHighestTreeOrder) {
    expect_some_condition_fails_at(t.order + 1, t.b, stages_of(t), t.name + "'s weights b");
  }
  if (t.adaptive() && t.embedded_order < kHighestTreeOrder) {
    expect_some_condition_fails_at(t.embedded_order + 1, t.bhat, stages_of(t),
                                   t.name + "'s embedded weights bhat");
  }
}

// The bushy trees alone reach every order: sum_i b_i c_i^(k-1) = 1/k for k <= p (b integrates
// polynomials of degree p - 1 exactly). This is the only check of orders 6 to 8 for dopri8.
TEST_P(EveryTableau, QuadratureConditionsHoldUpToOrderP) {
  const ButcherTableau& t = *GetParam();
  for (int k = 1; k <= t.order; ++k) {
    double sum = 0.0;
    double magnitude = 0.0;
    for (int i = 0; i < t.stages; ++i) {
      const double term = t.b[i] * std::pow(t.c[i], k - 1);
      sum += term;
      magnitude += std::abs(term);
    }
    EXPECT_NEAR(sum, 1.0 / k, kTolerance * std::max(1.0, magnitude))
        << t.name << ": sum b c^" << k - 1 << " should be 1/" << k;
  }
}

TEST_P(EveryTableau, RowsOfASumToC) {
  const ButcherTableau& t = *GetParam();
  for (int i = 0; i < t.stages; ++i) {
    double sum = 0.0;
    double magnitude = 0.0;
    for (int j = 0; j < t.stages; ++j) {
      sum += t.a_at(i, j);
      magnitude += std::abs(t.a_at(i, j));
    }
    EXPECT_NEAR(sum, t.c[i], kTolerance * std::max(1.0, magnitude))
        << t.name << ": row " << i << " of a";
  }
}

TEST_P(EveryTableau, RevalidatingACopyPassesAndDerivesTheSameFsal) {
  ButcherTableau copy = *GetParam();
  copy.fsal = !copy.fsal;
  EXPECT_NO_THROW(copy.validate());
  EXPECT_EQ(copy.fsal, GetParam()->fsal) << copy.name;
}

TEST_P(EveryTableau, DenseWeightsAreZeroAtThetaZeroAndBAtThetaOne) {
  const ButcherTableau& t = *GetParam();
  const auto s = static_cast<std::size_t>(t.stages);
  Vector w(s + 1, -1.0);
  t.dense_weights(0.0, w.data());
  for (std::size_t i = 0; i <= s; ++i) EXPECT_EQ(w[i], 0.0) << t.name << ": w[" << i << "](0)";

  std::fill(w.begin(), w.end(), -1.0);
  t.dense_weights(1.0, w.data());
  for (std::size_t i = 0; i < s; ++i) {
    // The polynomial weights sum their coefficients at theta = 1 (Tsitouras's reach ~88 in size).
    double magnitude = 0.0;
    for (int k = 0; k < t.dense_degree; ++k) magnitude += std::abs(t.dense[i * t.dense_degree + k]);
    EXPECT_NEAR(w[i], t.b[i], kTolerance * std::max(1.0, magnitude))
        << t.name << ": w[" << i << "](1) should be b[" << i << "]";
  }
  EXPECT_NEAR(w[s], 0.0, kTolerance) << t.name << ": the end-slope weight at theta = 1";
}

// y(t + theta h) from the dense weights, as a B-series, matches the exact solution on every tree
// up to the interpolant's order, capped by the step's order (Hermite through a first-order y1 is
// no better than first order). The end slope f(t + h, y1) is an extra stage whose row of a is b.
TEST_P(EveryTableau, DenseOutputSatisfiesOrderConditionsUpToItsOrder) {
  const ButcherTableau& t = *GetParam();
  const Stages k = stages_with_end_slope(t);
  const int order = std::min({t.dense_order, t.order, kHighestTreeOrder});
  for (double theta : {0.1, 0.5, 0.75, 0.9}) {
    Vector w(k.s);
    t.dense_weights(theta, w.data());
    expect_conditions_up_to(order, w, k, t.name + "'s dense weights", theta);
  }
}

TEST_P(EveryTableau, DescribesItselfForHelpTexts) {
  const ButcherTableau& t = *GetParam();
  EXPECT_FALSE(t.summary.empty()) << t.name;
  EXPECT_FALSE(t.source.empty()) << t.name;
  EXPECT_TRUE(!t.name.empty() && std::all_of(t.name.begin(), t.name.end(),
                                             [](char ch) {
                                               return (ch >= 'a' && ch <= 'z') ||
                                                      (ch >= '0' && ch <= '9') || ch == '_';
                                             }))
      << "'" << t.name << "' is not a lowercase word users can type";
  EXPECT_EQ(&find_method(t.name), &t) << t.name;
}

INSTANTIATE_TEST_SUITE_P(ButcherTableau, EveryTableau,
                         ::testing::ValuesIn(all_methods().begin(), all_methods().end()),
                         [](const ::testing::TestParamInfo<const ButcherTableau*>& info) {
                           return info.param->name;
                         });

TEST(ButcherTableau, FsalIsDetectedForBosh3Dopri5Tsit5ButNotRk4) {
  EXPECT_TRUE(find_method("bosh3").fsal);
  EXPECT_TRUE(find_method("dopri5").fsal);
  EXPECT_TRUE(find_method("tsit5").fsal);
  EXPECT_FALSE(find_method("rk4").fsal);
  // c_12 = 1, but DOP853's last stage is not evaluated at y_new.
  EXPECT_FALSE(find_method("dopri8").fsal);
}

// Hermite weights h11 = theta^3 - theta^2 on f(t + h, y1): a separate slot for non-FSAL methods,
// folded into the last stage (which is that slope) for FSAL ones.
TEST(ButcherTableau, HermiteEndSlopeIsFoldedIntoTheFsalStage) {
  const double theta = 0.3;
  const double h11 = theta * theta * theta - theta * theta;

  const ButcherTableau& rk4 = find_method("rk4");
  Vector w(5);
  rk4.dense_weights(theta, w.data());
  EXPECT_NEAR(w[4], h11, 1e-16);

  const ButcherTableau& bosh3 = find_method("bosh3");
  bosh3.dense_weights(theta, w.data());
  EXPECT_EQ(w[4], 0.0);
  EXPECT_NEAR(w[3], h11, 1e-16);  // b_4 = 0, so w_4 is the end slope's weight alone
}

// validate() failures: copy a registered tableau, break one thing, expect the message to name
// the tableau and the condition.
void expect_validate_throws(ButcherTableau t, const std::vector<std::string>& message_parts) {
  try {
    t.validate();
    ADD_FAILURE() << "validate() accepted the broken tableau '" << t.name << "'";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("ButcherTableau '" + t.name + "'"), std::string::npos) << message;
    for (const std::string& part : message_parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "'" << part << "' missing in: " << message;
    }
  }
}

TEST(ButcherTableau, ValidateRejectsRowOfANotSummingToC) {
  ButcherTableau t = find_method("rk4");
  t.c[2] = 0.51;
  expect_validate_throws(t, {"row 2 of a sums to 0.5", "c[2] = 0.51"});
}

TEST(ButcherTableau, ValidateRejectsWeightsNotSummingToOne) {
  ButcherTableau t = find_method("dopri5");
  t.bhat[0] += 1e-10;
  expect_validate_throws(t, {"bhat sums to"});
  t = find_method("rk4");
  t.b[3] = 0.2;
  expect_validate_throws(t, {"b sums to"});
}

TEST(ButcherTableau, ValidateRejectsEntriesOnOrAboveTheDiagonal) {
  ButcherTableau t = find_method("heun2");
  t.a[1] = 0.5;  // a[0][1]
  expect_validate_throws(t, {"a[0][1] = 0.5", "strictly lower triangular"});
}

TEST(ButcherTableau, ValidateRejectsMisSizedArrays) {
  ButcherTableau t = find_method("rk4");
  t.c.pop_back();
  expect_validate_throws(t, {"c has 3 entries", "stages = 4"});
  t = find_method("bosh3");
  t.bhat.push_back(0.0);
  expect_validate_throws(t, {"bhat has 5 entries"});
  t = find_method("tsit5");
  t.dense.pop_back();
  expect_validate_throws(t, {"dense has 27 entries"});
}

TEST(ButcherTableau, ValidateRejectsDenseOutputThatMissesBAtThetaOne) {
  ButcherTableau t = find_method("dopri5");
  t.dense[2 * 4 + 1] += 1e-9;  // b_3(theta), theta^2 coefficient
  expect_validate_throws(t, {"stage 2 at theta = 1"});
}

TEST(ButcherTableau, ValidateRejectsEmbeddedOrderWithoutWeights) {
  ButcherTableau t = find_method("rk4");
  t.embedded_order = 3;
  expect_validate_throws(t, {"embedded_order = 3", "bhat is empty"});
}

TEST(ButcherTableauRegistry, ListsEveryMethodOnceInTheDocumentedOrder) {
  std::vector<std::string> names;
  for (const ButcherTableau* t : all_methods()) names.push_back(t->name);
  const std::vector<std::string> expected = {"euler",      "midpoint", "heun2",  "rk4",   "rk4_38",
                                             "heun_euler", "bosh3",    "dopri5", "tsit5", "dopri8"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(method_names(),
            "euler, midpoint, heun2, rk4, rk4_38, heun_euler, bosh3, dopri5, tsit5, dopri8");
}

TEST(ButcherTableauRegistry, FindMethodRejectsUnknownNamesListingTheAcceptedOnes) {
  try {
    find_method("nope");
    ADD_FAILURE() << "find_method accepted 'nope'";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown method 'nope'"), std::string::npos) << message;
    EXPECT_NE(message.find("accepted: " + method_names()), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace neuralode::ode
