// The two Matmul backends compute the same products (float), including strided weights (row stride
// > in, as ConcatLinear uses) and accumulation into the weight gradient.
// GCC 12 reports false "may be used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's packet math inlines them; nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace neuralode::nn::detail
