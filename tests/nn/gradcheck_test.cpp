// gradcheck on every registered layer, on each way time enters a field, on a deep composition and
// on the field class (vjp, jvp and jvp_vjp).
//
// Why 1e-6 is a safe bound in double: the central difference (g(p+h) - g(p-h)) / 2h differs from
// g'(p) by h^2 |g'''| / 6 (truncation, ~2e-13 for h = 1e-6 and O(1) third derivatives) plus the
// rounding of the two evaluations divided by 2h: each sums batch*out products a_i f_i, so its
// absolute rounding error is ~ eps * sum |a_i f_i| ~ 1e-16 * 10, giving ~1e-9 after dividing by
// 2h. gradcheck measures errors relative to max(|g|_inf, 1), so a correct layer lands near 1e-9,
// three orders below the bound, while a wrong derivative (a missing factor, sign or index) shows
// up as O(1e-2..1). Kinks (relu at 0, elu's sigma'' at 0) are avoided by construction: gradcheck
// draws inputs as sign * U(0.2, 1), at least 0.2 >> h from 0.
#include <gtest/gtest.h>

#include "neuralode/nn.hpp"
#include "nn/nn_test_fields.hpp"

namespace neuralode::nn {
namespace {

constexpr double kTolerance = 1e-6;

std::vector<std::string> registered_names() {
  std::vector<std::string> names;
  for (const auto& e : layer_registry()) names.push_back(e.name);
  return names;
}

class EveryRegisteredLayer : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryRegisteredLayer, MatchesCentralDifferences) {
  const auto& entry = find_layer(GetParam());
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto layer = entry.make<double>();
    const auto report = gradcheck(*layer, /*batch=*/3, seed);
    EXPECT_TRUE(report.ok(kTolerance)) << report.report();
  }
}

TEST_P(EveryRegisteredLayer, KindIsItsRegistryName) {
  const auto& entry = find_layer(GetParam());
  EXPECT_EQ(entry.make<double>()->kind(), entry.name);
  EXPECT_EQ(entry.make<float>()->kind(), entry.name);
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryRegisteredLayer, ::testing::ValuesIn(registered_names()),
                         [](const auto& info) { return info.param; });

TEST(Gradcheck, EveryTimeParametrizationMatchesCentralDifferences) {
  for (const auto& p : testing::time_parametrizations()) {
    LayerField<double> field(p.make());
    init_default(field, 7);
    for (std::uint64_t seed : {11u, 12u}) {
      const auto report = gradcheck(field, /*batch=*/4, seed);
      EXPECT_TRUE(report.ok(kTolerance)) << p.name << "\n" << report.report();
      EXPECT_EQ(report.num_params_checked, field.num_params());
    }
  }
}

TEST(Gradcheck, TimeAwareFieldsHaveNonzeroTimeDerivative) {
  // A check of d/dt is only meaningful where time enters; make sure it does (guards against a
  // field that silently ignores t and passes with 0 = 0).
  for (const auto& p : testing::time_parametrizations()) {
    if (p.name == "Stationary" || p.name == "PiecewiseConstant") continue;
    LayerField<double> field(p.make());
    init_default(field, 3);
    Matrix<double> x = Matrix<double>::Constant(2, field.dim(), 0.3), a = x, xb = x;
    double t_bar = 0;
    field.vjp(0.4, ConstMatrixView<double>(x.data(), 2, field.dim()),
              ConstMatrixView<double>(a.data(), 2, field.dim()), nullptr,
              MatrixView<double>(xb.data(), 2, field.dim()), nullptr, &t_bar);
    EXPECT_GT(std::abs(t_bar), 1e-6) << p.name;
  }
}

TEST(Gradcheck, DeepCompositionMatchesCentralDifferences) {
  LayerField<double> field(testing::deep_composition<double>());
  init_default(field, 5);
  const auto report = gradcheck(field, /*batch=*/3, 21);
  EXPECT_TRUE(report.ok(kTolerance)) << report.report();
}

TEST(Gradcheck, SpiralFieldWithNormalInitMatchesCentralDifferences) {
  LayerField<double> field(testing::spiral<double>());
  init_normal(field, 0.1, 9);
  const auto report = gradcheck(field, /*batch=*/5, 3);
  EXPECT_TRUE(report.ok(kTolerance)) << report.report();
}

TEST(Gradcheck, PiecewiseConstantChecksEveryBlock) {
  // t at the middle of each block: each block's slice of theta_bar is the one that gets filled.
  auto make = testing::time_parametrizations()[4].make;
  LayerField<double> field(make());
  init_default(field, 1);
  for (double t : {0.125, 0.375, 0.625, 0.875}) {
    GradcheckOptions o;
    o.t = t;
    const auto report = gradcheck(field, 3, 4, o);
    EXPECT_TRUE(report.ok(kTolerance)) << "t = " << t << "\n" << report.report();
  }
}

// A layer whose VJP w.r.t. x is off by a factor of 2: gradcheck must notice.
class BrokenScale final : public TangentLayerBase<double> {
 public:
  std::string kind() const override { return "BrokenScale"; }
  Index in_features() const override { return 2; }
  Index out_features() const override { return 2; }
  void forward(Time<double>, ConstMatrixView<double> x, MatrixView<double> y, double*) override {
    y = 3 * x;
  }
  void backward(Time<double>, ConstMatrixView<double>, const double*, ConstMatrixView<double> y_bar,
                MatrixView<double> x_bar, double*, double*) override {
    x_bar = 6 * y_bar;
  }
  void forward_tangent(Time<double>, ConstMatrixView<double> x, ConstMatrixView<double> x_dot,
                       MatrixView<double> y, MatrixView<double> y_dot, double*) override {
    y = 3 * x;
    y_dot = 3 * x_dot;
  }
  void backward_tangent(Time<double>, ConstMatrixView<double>, ConstMatrixView<double>,
                        const double*, ConstMatrixView<double> y_bar,
                        ConstMatrixView<double> y_dot_bar, MatrixView<double> x_bar,
                        MatrixView<double> x_dot_bar, double*, double*) override {
    x_bar = 3 * y_bar;  // correct here: only the plain VJP is broken
    x_dot_bar = 3 * y_dot_bar;
  }
};

TEST(Gradcheck, ReportsAWrongDerivative) {
  BrokenScale layer;
  const auto report = gradcheck(layer, 2, 1);
  EXPECT_FALSE(report.ok(kTolerance));
  EXPECT_GT(report.vjp_x, 0.1);
  EXPECT_LT(report.jvp, kTolerance);
  EXPECT_NE(report.brief().find("vjp_x"), std::string::npos) << report.brief();
}

}  // namespace
}  // namespace neuralode::nn
