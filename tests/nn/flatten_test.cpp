// Flatten: the identity on NCHW rows, in all four products, and its shape errors.
#include "neuralode/nn/flatten.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "neuralode/error.hpp"
#include "neuralode/nn/gradcheck.hpp"

namespace neuralode::nn {
namespace {

// Layer calls on owning matrices (the Layer interface takes views).
template <class S>
using M = std::type_identity_t<Matrix<S>>;
template <class S>
ConstMatrixView<S> cv(const Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}
template <class S>
MatrixView<S> mv(Matrix<S>& m) {
  return {m.data(), m.rows(), m.cols()};
}
template <class S>
void fwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, M<S>& y) {
  l.forward(t, cv(x), mv(y));
}
template <class S>
void bwd(Layer<S>& l, const M<S>& y_bar, M<S>& x_bar, std::type_identity_t<S>* theta_bar,
         std::type_identity_t<S>* t_bar) {
  l.backward(cv(y_bar), mv(x_bar), theta_bar, t_bar);
}
template <class S>
void tfwd(Layer<S>& l, std::type_identity_t<S> t, const M<S>& x, const M<S>& v, M<S>& y,
          M<S>& y_dot) {
  l.forward_tangent(t, cv(x), cv(v), mv(y), mv(y_dot));
}
template <class S>
void tbwd(Layer<S>& l, const M<S>& y_bar, const M<S>& y_dot_bar, M<S>& x_bar, M<S>& v_bar,
          std::type_identity_t<S>* theta_bar, std::type_identity_t<S>* t_bar) {
  l.backward_tangent(cv(y_bar), cv(y_dot_bar), mv(x_bar), mv(v_bar), theta_bar, t_bar);
}

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
