// Flatten: the identity on NCHW rows, in all four products, and its shape errors.
#include "neuralode/nn/flatten.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "neuralode/error.hpp"
#include "neuralode/nn/gradcheck.hpp"
#include "nn/layer_calls.hpp"

namespace neuralode::nn {
namespace {

TEST(Flatten, IsTheIdentityInEveryProduct) {
  Flatten<float> fl(6);
  EXPECT_EQ(fl.in_features(), 6);
  EXPECT_EQ(fl.out_features(), 6);
  EXPECT_EQ(fl.num_params(), 0);
  Matrix<float> x = Matrix<float>::Random(3, 6), v = Matrix<float>::Random(3, 6);
  Matrix<float> y(3, 6), yd(3, 6), xb(3, 6), vb(3, 6);
  fwd(fl, 0, x, y);
  EXPECT_EQ(y, x);
  bwd(fl, v, xb, nullptr, nullptr);
  EXPECT_EQ(xb, v);
  tfwd(fl, 0, x, v, y, yd);
  EXPECT_EQ(y, x);
  EXPECT_EQ(yd, v);
  tbwd(fl, x, v, xb, vb, nullptr, nullptr);
  EXPECT_EQ(xb, x);
  EXPECT_EQ(vb, v);
}

TEST(Flatten, DerivativeProductsMatchCentralDifferences) {
  // The identity: central differences are exact up to rounding (~eps / h = 1e-10).
  Flatten<double> fl(5);
  const GradcheckReport r = gradcheck(fl, {}, 2, 7);
  EXPECT_TRUE(r.ok(1e-6)) << r.report();
}

TEST(Flatten, RejectsBadShapesNamingThem) {
  EXPECT_THROW(Flatten<double>(0), InvalidArgument);
  Flatten<double> fl(4);
  Matrix<double> x(2, 3), y(2, 4);
  try {
    fwd(fl, 0, x, y);
    FAIL() << "no InvalidArgument thrown";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("x is 2 x 3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace neuralode::nn
