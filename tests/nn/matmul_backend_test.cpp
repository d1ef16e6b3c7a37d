// The two Matmul backends compute the same products (float), including strided weights (row stride
// > in, as ConcatLinear uses) and accumulation into the weight gradient.
// GCC 12 reports false "may be used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's packet math inlines them; nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "neuralode/nn/init.hpp"
#include "nn/backend/matmul.hpp"

namespace neuralode::nn::detail {
namespace {

Matrix<float> random(Index r, Index c, Rng& rng) {
  Matrix<float> m(r, c);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.uniform(-1, 1));
  return m;
}

// Relative to the largest entry: float GEMMs with k <= 300 terms in different summation orders
// differ by up to ~k * eps_f * max|entry| ~ 300 * 6e-8 = 2e-5 in the worst case, ~1e-6 typically.
double diff(const Matrix<float>& a, const Matrix<float>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0f, b.cwiseAbs().maxCoeff());
}

TEST(Matmul, EigenAndOnednnAgreeOnEveryProduct) {
  Rng rng(1);
  auto eigen = make_matmul<float>(MatmulBackend::eigen);
  auto onednn = make_matmul<float>(MatmulBackend::onednn);
  for (auto [m, k, n] : {std::tuple<Index, Index, Index>{7, 3, 5}, {64, 65, 256}, {300, 129, 64}}) {
    const Index ldw = k + 1;  // a column block of a wider weight, as in ConcatLinear
    const Matrix<float> x = random(m, k, rng), w = random(n, ldw, rng), yb = random(m, n, rng);
    const Matrix<float> b = random(1, n, rng);
    Matrix<float> y1(m, n), y2(m, n), xb1(m, k), xb2(m, k);
    Matrix<float> wb1 = Matrix<float>::Ones(n, ldw), wb2 = wb1;
    using CV = ConstMatrixView<float>;
    using MV = MatrixView<float>;
    for (Matmul<float>* mm : {eigen.get(), onednn.get()}) {
      const bool first = mm == eigen.get();
      Matrix<float>& y = first ? y1 : y2;
      Matrix<float>& xb = first ? xb1 : xb2;
      Matrix<float>& wb = first ? wb1 : wb2;
      mm->forward(CV(x.data(), m, k), w.data() + 1, ldw, b.data(), MV(y.data(), m, n));
      mm->backward_input(CV(yb.data(), m, n), w.data() + 1, ldw, MV(xb.data(), m, k));
      mm->backward_weight(CV(yb.data(), m, n), CV(x.data(), m, k), wb.data() + 1, ldw);
    }
    EXPECT_LT(diff(y1, y2), 2e-5) << m << "x" << k << "x" << n;
    EXPECT_LT(diff(xb1, xb2), 2e-5) << m << "x" << k << "x" << n;
    EXPECT_LT(diff(wb1, wb2), 2e-5) << m << "x" << k << "x" << n;
    EXPECT_EQ(wb2.col(0), Matrix<float>::Ones(n, 1)) << "column 0 is outside the block";
    // And the Eigen result is right: y = x W^T + b.
    const Matrix<float> wk = w.rightCols(k);
    Matrix<float> ref = x * wk.transpose();
    ref.rowwise() += b.row(0);
    EXPECT_LT(diff(y1, ref), 2e-5);
  }
}

// The thin-product kernels (matmul_thin.hpp: in or out <= 4) at every thin width 1..4 and long
// sides that hit a whole SIMD pack, one lane past it, one short of it and a single element, with a
// strided weight, against a double-precision reference. The bound is the standard a-priori one for
// a sum of n products evaluated in any order: |computed - exact| <= gamma_n * sum |terms|, with
// gamma_n = n u / (1 - n u), u the unit roundoff; here n counts the bias too.
template <class Scalar>
void check_thin_products() {
  using MatD = Eigen::MatrixXd;
  Rng rng(3);
  auto mm = make_matmul<Scalar>(MatmulBackend::eigen);
  const double u = std::numeric_limits<Scalar>::epsilon() / 2;
  auto gamma = [u](Index n) { return n * u / (1 - n * u); };
  auto rnd = [&rng](Index r, Index c) {
    Matrix<Scalar> m(r, c);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<Scalar>(rng.uniform(-1, 1));
    return m;
  };
  // Every entry of got within gamma(terms) * bound of want (both double).
  auto expect_close = [&](const Matrix<Scalar>& got, const MatD& want, const MatD& bound,
                          Index terms, const char* what, Index m, Index k, Index n) {
    for (Index i = 0; i < want.rows(); ++i)
      for (Index j = 0; j < want.cols(); ++j)
        ASSERT_LE(std::abs(double(got(i, j)) - want(i, j)), gamma(terms) * bound(i, j))
            << what << " at (" << i << ", " << j << "), m x k x n = " << m << " x " << k << " x "
            << n;
  };
  for (Index thin = 1; thin <= 4; ++thin) {
    for (Index wide : {1, 7, 8, 9, 15, 16, 17, 50, 64}) {
      for (bool thin_in : {true, false}) {
        // m = 21: whole groups of 16 / K rows (the grouped dot products) and a remainder.
        const Index m = 21, k = thin_in ? thin : wide, n = thin_in ? wide : thin, ldw = k + 2;
        const Matrix<Scalar> x = rnd(m, k), w = rnd(n, ldw), yb = rnd(m, n), b = rnd(1, n);
        Matrix<Scalar> y(m, n), xb(m, k), wb = Matrix<Scalar>::Ones(n, ldw);
        mm->forward(ConstMatrixView<Scalar>(x.data(), m, k), w.data() + 1, ldw, b.data(),
                    MatrixView<Scalar>(y.data(), m, n));
        mm->backward_input(ConstMatrixView<Scalar>(yb.data(), m, n), w.data() + 1, ldw,
                           MatrixView<Scalar>(xb.data(), m, k));
        mm->backward_weight(ConstMatrixView<Scalar>(yb.data(), m, n),
                            ConstMatrixView<Scalar>(x.data(), m, k), wb.data() + 1, ldw);
        const MatD xd = x.template cast<double>(), wd = w.template cast<double>().middleCols(1, k),
                   ybd = yb.template cast<double>(), bd = b.template cast<double>();
        const MatD y_want = (xd * wd.transpose()).rowwise() + bd.row(0);
        const MatD y_abs =
            (xd.cwiseAbs() * wd.cwiseAbs().transpose()).rowwise() + bd.cwiseAbs().row(0);
        expect_close(y, y_want, y_abs, k + 1, "y", m, k, n);
        expect_close(xb, ybd * wd, ybd.cwiseAbs() * wd.cwiseAbs(), n, "x_bar", m, k, n);
        // W_bar started at ones: the update adds m products to 1.
        const Matrix<Scalar> wb_block = wb.middleCols(1, k);
        expect_close(wb_block, (ybd.transpose() * xd).array() + 1.0,
                     (ybd.cwiseAbs().transpose() * xd.cwiseAbs()).array() + 1.0, m + 1, "W_bar", m,
                     k, n);
        EXPECT_EQ(wb.col(0), Matrix<Scalar>::Ones(n, 1)) << "column 0 is outside the block";
        EXPECT_EQ(wb.col(k + 1), Matrix<Scalar>::Ones(n, 1)) << "column k+1 is outside the block";
      }
    }
  }
}

TEST(Matmul, ThinProductsAreWithinTheRoundingBoundFloat) {
  check_thin_products<float>();
}
TEST(Matmul, ThinProductsAreWithinTheRoundingBoundDouble) {
  check_thin_products<double>();
}

}  // namespace
}  // namespace neuralode::nn::detail
