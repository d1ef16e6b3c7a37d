// The spiral field of the reference's first demo, cube -> Linear(2, 50) -> tanh -> Linear(50, 2),
// checked against values computed by hand for a tiny fixed-weight case.
//
// Weights: only hidden units 0 and 1 are live; every other row of W1, entry of b1 and column of W2
// is zero, so those units give tanh(0) = 0 and contribute nothing (and get zero weight gradients
// except through u, which we check too).
//   W1 row 0 = (0.5, 0),  W1 row 1 = (0, 0.25),  b1_0 = 0,  b1_1 = -1.5
//   W2 col 0 = (1, 0)^T,  W2 col 1 = (0, -2)^T,  b2 = (0.1, 0.2)
// Input x = (1, 2), t = 0.3 (the field is time-stationary):
//   u = x^3 = (1, 8)
//   z = W1 u + b1 = (0.5, 0.25*8 - 1.5) = (0.5, 0.5);  h = tanh z = (tau, tau), tau = tanh 0.5
//   f = W2 h + b2 = (tau + 0.1, -2 tau + 0.2)
// VJP with a = (1, 1), writing s = 1 - tau^2 = tanh'(0.5):
//   h_bar = W2^T a = (1, -2, 0, ...);  z_bar = h_bar * s = (s, -2s)
//   u_bar = W1^T z_bar = (0.5 s, 0.25 * (-2s)) = (0.5 s, -0.5 s)
//   x_bar = u_bar * 3x^2 = (1.5 s, -0.5 s * 12) = (1.5 s, -6 s)
//   W2_bar = a h^T: both rows (tau, tau, 0, ...);  b2_bar = a = (1, 1)
//   W1_bar = z_bar u^T: row 0 = s (1, 8), row 1 = -2s (1, 8);  b1_bar = (s, -2s)
// JVP with v = (1, 0): u_dot = 3x^2 v = (3, 0), z_dot = W1 u_dot = (1.5, 0),
//   h_dot = s z_dot = (1.5 s, 0), jv = W2 h_dot = (1.5 s, 0).
#include <gtest/gtest.h>

#include <cmath>

#include "neuralode/nn.hpp"
#include "nn/nn_test_fields.hpp"

namespace neuralode::nn {
namespace {

// Layout of Sequential(Cube, Linear(2,50), Tanh, Linear(50,2)): "1.weight" at 0 (50 x 2),
// "1.bias" at 100, "3.weight" at 150 (2 x 50), "3.bias" at 250; 252 in all.
void set_weights(std::span<double> p) {
  std::fill(p.begin(), p.end(), 0.0);
  p[0 * 2 + 0] = 0.5;          // W1(0, 0)
  p[1 * 2 + 1] = 0.25;         // W1(1, 1)
  p[100 + 1] = -1.5;           // b1(1)
  p[150 + 0 * 50 + 0] = 1.0;   // W2(0, 0)
  p[150 + 1 * 50 + 1] = -2.0;  // W2(1, 1)
  p[250] = 0.1;
  p[251] = 0.2;
}

// Doubles in these few operations are exact to a few ulps of O(1) numbers.
constexpr double kTol = 1e-14;

TEST(SpiralField, ParameterLayoutIsPyTorchs) {
  LayerField<double> field(testing::spiral<double>());
  const auto views = field.param_views();
  ASSERT_EQ(views.size(), 4u);
  EXPECT_EQ(views[0].name, "1.weight");
  EXPECT_EQ(views[0].shape, (std::vector<Index>{50, 2}));
  EXPECT_EQ(views[1].name, "1.bias");
  EXPECT_EQ(views[1].offset, 100);
  EXPECT_EQ(views[2].name, "3.weight");
  EXPECT_EQ(views[2].offset, 150);
  EXPECT_EQ(views[3].name, "3.bias");
  EXPECT_EQ(views[3].offset, 250);
  EXPECT_EQ(field.num_params(), 252);
}

TEST(SpiralField, ForwardVjpAndJvpMatchHandComputedValues) {
  LayerField<double> field(testing::spiral<double>());
  set_weights(field.params());
  const double tau = std::tanh(0.5), s = 1 - tau * tau;

  Matrix<double> x(1, 2), a(1, 2), v(1, 2), f(1, 2), jv(1, 2), xb(1, 2);
  x << 1, 2;
  a << 1, 1;
  v << 1, 0;
  using CV = ConstMatrixView<double>;
  using MV = MatrixView<double>;

  field.forward(0.3, CV(x.data(), 1, 2), MV(f.data(), 1, 2));
  EXPECT_NEAR(f(0, 0), tau + 0.1, kTol);
  EXPECT_NEAR(f(0, 1), -2 * tau + 0.2, kTol);

  std::vector<double> g(252, 0.0);
  double t_bar = 0;
  Matrix<double> f2(1, 2);
  field.vjp(0.3, CV(x.data(), 1, 2), CV(a.data(), 1, 2), f2.data(), MV(xb.data(), 1, 2), g.data(),
            &t_bar);
  EXPECT_NEAR(f2(0, 0), tau + 0.1, kTol);
  EXPECT_NEAR(xb(0, 0), 1.5 * s, kTol);
  EXPECT_NEAR(xb(0, 1), -6 * s, kTol);
  EXPECT_EQ(t_bar, 0.0);  // time-stationary
  // W1_bar rows 0, 1; b1_bar.
  EXPECT_NEAR(g[0], s, kTol);
  EXPECT_NEAR(g[1], 8 * s, kTol);
  EXPECT_NEAR(g[2], -2 * s, kTol);
  EXPECT_NEAR(g[3], -16 * s, kTol);
  EXPECT_NEAR(g[100], s, kTol);
  EXPECT_NEAR(g[101], -2 * s, kTol);
  // W2_bar = a h^T, b2_bar = a.
  EXPECT_NEAR(g[150 + 0], tau, kTol);
  EXPECT_NEAR(g[150 + 1], tau, kTol);
  EXPECT_NEAR(g[150 + 50], tau, kTol);
  EXPECT_NEAR(g[150 + 51], tau, kTol);
  EXPECT_NEAR(g[250], 1.0, kTol);
  EXPECT_NEAR(g[251], 1.0, kTol);
  // Dead units: zero gradient everywhere else.
  double rest = 0;
  for (int i = 0; i < 252; ++i) {
    if (i == 0 || i == 1 || i == 2 || i == 3 || i == 100 || i == 101 || i == 150 || i == 151 ||
        i == 200 || i == 201 || i == 250 || i == 251) {
      continue;
    }
    rest = std::max(rest, std::abs(g[static_cast<std::size_t>(i)]));
  }
  EXPECT_EQ(rest, 0.0);

  field.jvp(0.3, CV(x.data(), 1, 2), CV(v.data(), 1, 2), MV(f.data(), 1, 2), MV(jv.data(), 1, 2));
  EXPECT_NEAR(jv(0, 0), 1.5 * s, kTol);
  EXPECT_NEAR(jv(0, 1), 0.0, kTol);
}

TEST(SpiralField, VjpAccumulatesIntoThetaBar) {
  // theta_bar is added into, so two calls give twice the gradient.
  LayerField<double> field(testing::spiral<double>());
  set_weights(field.params());
  Matrix<double> x(1, 2), a(1, 2), xb(1, 2);
  x << 1, 2;
  a << 1, 1;
  std::vector<double> g(252, 0.0);
  for (int k = 0; k < 2; ++k) {
    field.vjp(0.0, ConstMatrixView<double>(x.data(), 1, 2), ConstMatrixView<double>(a.data(), 1, 2),
              nullptr, MatrixView<double>(xb.data(), 1, 2), g.data(), nullptr);
  }
  EXPECT_NEAR(g[250], 2.0, kTol);
  EXPECT_NEAR(g[0], 2 * (1 - std::tanh(0.5) * std::tanh(0.5)), kTol);
}

}  // namespace
}  // namespace neuralode::nn
